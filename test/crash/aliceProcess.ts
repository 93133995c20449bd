import { type ChildProcess, fork } from "node:child_process";
import type { ChildEntry } from "./childEntry.js";
import {
  type Call,
  type CallResult,
  type Command,
  type CommandResult,
  isChildMessage,
  type Note,
  type ReadyMessage,
  type StartMessage,
} from "./ipcProtocol.js";

/*
 * One child process running alice, seen from the parent: start it, send it commands, answer
 * its calls, SIGKILL it. After a kill nothing it sends is looked at any more (a message already
 * in the pipe is as dead as the process), and nothing more is sent to it.
 */

export interface ChildHandlers {
  onCall(child: AliceProcess, call: Call, answer: (result: CallResult) => void): void;
  onNote(note: Note): void;
}

export type Ended =
  /** We killed it. */
  | { readonly kind: "killed" }
  /** It died by itself: a failure of the study (or of the library). */
  | { readonly kind: "crashed"; readonly detail: string };

export type Outcome<T> = { readonly kind: "ok"; readonly value: T } | Ended;

/** Every child not yet exited, so none is left behind whatever happens to the parent. */
const LIVE = new Set<ChildProcess>();
let exitHookInstalled = false;

export function killAllChildren(): void {
  for (const child of LIVE) child.kill("SIGKILL");
  LIVE.clear();
}

const STDERR_TAIL = 4_000;

export class AliceProcess {
  readonly #child: ChildProcess;
  readonly #handlers: ChildHandlers;
  #alive = true;
  #killedByUs = false;
  #fatal: string | undefined;
  #stderr = "";
  #nextId = 0;
  readonly #commands = new Map<number, (outcome: Outcome<CommandResult>) => void>();
  #ready: ((outcome: Outcome<ReadyMessage>) => void) | undefined;
  /** Resolves once the process has exited (its SQLite handle is closed by the OS). */
  readonly exited: Promise<void>;

  private constructor(entry: ChildEntry, handlers: ChildHandlers) {
    this.#handlers = handlers;
    this.#child = fork(entry.script, [], {
      execArgv: [...entry.execArgv],
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "json",
    });
    LIVE.add(this.#child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", killAllChildren);
    }
    this.#child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    this.#child.on("message", (message) => this.#receive(message));
    // A send racing the child's own death fails with EPIPE: the exit handler reports it.
    this.#child.on("error", (error) => {
      this.#stderr += `\n[parent] ${error.message}`;
    });
    this.exited = new Promise((resolve) => {
      this.#child.on("exit", (code, signal) => {
        LIVE.delete(this.#child);
        this.#alive = false;
        this.#endAll(code, signal);
        resolve();
      });
    });
  }

  /** Starts a child and sends it `start`; resolves when it is ready (or dead). */
  static launch(
    entry: ChildEntry,
    start: StartMessage,
    handlers: ChildHandlers,
  ): { readonly child: AliceProcess; readonly ready: Promise<Outcome<ReadyMessage>> } {
    const child = new AliceProcess(entry, handlers);
    const ready = new Promise<Outcome<ReadyMessage>>((resolve) => {
      child.#ready = resolve;
    });
    child.#child.send(start);
    return { child, ready };
  }

  get alive(): boolean {
    return this.#alive && !this.#killedByUs;
  }

  command(time: number, command: Command): Promise<Outcome<CommandResult>> {
    if (!this.alive) return Promise.resolve(this.#ended());
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise((resolve) => {
      this.#commands.set(id, resolve);
      this.#child.send({ kind: "command", id, time, command });
    });
  }

  answer(id: number, result: CallResult): void {
    if (this.alive) this.#child.send({ kind: "callResult", id, result });
  }

  /** SIGKILL, no warning: whatever the child was doing stops mid-way. */
  kill(): void {
    if (!this.alive) return;
    this.#killedByUs = true;
    this.#child.kill("SIGKILL");
  }

  #receive(message: unknown): void {
    if (!this.alive || !isChildMessage(message)) return;
    switch (message.kind) {
      case "ready":
        this.#ready?.({ kind: "ok", value: message });
        this.#ready = undefined;
        return;
      case "call":
        this.#handlers.onCall(this, message.call, (result) => this.answer(message.id, result));
        return;
      case "done":
        this.#commands.get(message.id)?.({ kind: "ok", value: message.result });
        this.#commands.delete(message.id);
        return;
      case "note":
        this.#handlers.onNote(message.note);
        return;
      case "fatal":
        this.#fatal = message.detail;
        return;
    }
  }

  #ended(code?: number | null, signal?: NodeJS.Signals | null): Ended {
    if (this.#killedByUs) return { kind: "killed" };
    const how = signal === undefined ? "" : ` (exit code ${code}, signal ${signal})`;
    const detail = `${this.#fatal ?? "the child died by itself"}${how}\n${this.#stderr}`;
    return { kind: "crashed", detail };
  }

  #endAll(code: number | null, signal: NodeJS.Signals | null): void {
    const ended = this.#ended(code, signal);
    this.#ready?.(ended);
    this.#ready = undefined;
    for (const resolve of this.#commands.values()) resolve(ended);
    this.#commands.clear();
  }
}
