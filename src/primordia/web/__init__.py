"""The live simulation server: sessions of any world over REST and WebSocket
(``primordia serve``; routes and messages in docs/web.md)."""
