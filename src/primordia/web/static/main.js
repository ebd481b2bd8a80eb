// The dashboard's entry: routes between the start page (#/), a live session
// (#/session/ID) and a replay (#/replay/NAME), and exposes window.primordia so tests and
// curious people can ask the page what it shows.

import { SessionView } from "./session_view.js";
import { showStart } from "./start_page.js";

const session = new SessionView();

async function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [kind, ...rest] = hash.split("/");
  const arg = rest.map(decodeURIComponent).join("/");
  document.body.dataset.page = kind === "session" || kind === "replay" ? "session" : "start";
  document.body.dataset.ready = "false";
  try {
    if (kind === "session") await session.openLive(arg);
    else if (kind === "replay") await session.openReplay(arg);
    else {
      session.close();
      await showStart();
    }
  } catch (e) {
    document.getElementById("status").textContent = e.message;
    document.getElementById("status").classList.add("bad");
  }
  document.body.dataset.ready = "true";
}

window.addEventListener("hashchange", route);
route();

window.primordia = {
  session,
  /** Turn the page shows. */
  turn: () => session.state.turn,
  /** Ids of the organisms the page holds. */
  organismIds: () => [...session.state.organisms.keys()],
  /** Where an organism is drawn, in CSS pixels from the world canvas's top-left corner. */
  screenOf: (id) => session.view.screenOf(id),
  /** Frames drawn so far (a slow page draws fewer frames than it receives turns). */
  frames: () => session.frames,
};
