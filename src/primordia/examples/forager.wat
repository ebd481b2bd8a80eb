;; A hand-written organism for any world (docs/brains/wasm.md, "Hand-written modules").
;; The host writes the context at address 0 before each step; sensor 0 is word 16 (byte 64).
;; This module keeps its own data from byte 4096 on: the seed init was given, and a count
;; of its steps.
;;
;;   primordia wasm check src/primordia/examples/forager.wat
;;   primordia wasm run src/primordia/examples/forager.wat --steps 3
;;   primordia run sandbox --brain wasm --founder src/primordia/examples/forager.wat:5
(module
  (import "env" "env_read" (func $env_read (param i32 i32) (result i32)))
  (import "env" "move_dir" (func $move_dir (param i32 i32) (result i32)))
  (import "env" "eat" (func $eat (result i32)))
  (memory (export "memory") 1)
  (func (export "init") (param $seed i64)
    (i64.store (i32.const 4096) (local.get $seed)))
  (func (export "step") (param $ctx i32) (result i32)
    ;; count my steps at 4104: my memory is mine from step to step
    (i32.store (i32.const 4104) (i32.add (i32.load (i32.const 4104)) (i32.const 1)))
    ;; sensor 0: food here -> eat
    (if (i32.gt_s (i32.load offset=64 (local.get $ctx)) (i32.const 0))
      (then (drop (call $eat)) (return (i32.const 2))))
    ;; food on the tile to the east -> go there, else go north
    (if (i32.gt_s (call $env_read (i32.const 1) (i32.const 0)) (i32.const 0))
      (then (drop (call $move_dir (i32.const 1) (i32.const 0))) (return (i32.const 1))))
    (drop (call $move_dir (i32.const 0) (i32.const -1)))
    (i32.const 1)))
