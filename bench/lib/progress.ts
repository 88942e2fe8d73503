/**
 * Progress of a bench run on stderr: a bar redrawn in place on a terminal, plain lines
 * otherwise (CI logs, pipes), so logs stay readable everywhere.
 */
export const BAR_WIDTH = 24;

export class Progress {
  private done = 0;
  private current = '';
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true && process.env.CI === undefined;
  }

  start(name: string): void {
    this.current = name;
    if (this.tty) this.draw('');
    else this.stream.write(`bench: [${this.done + 1}/${this.total}] ${name}\n`);
  }

  log(line: string): void {
    if (this.tty) this.draw(line);
    else this.stream.write(`  ${line}\n`);
  }

  finish(name: string): void {
    this.done++;
    if (this.tty) {
      this.stream.write('\r\x1b[2K');
      this.stream.write(`bench: ${name} done (${this.done}/${this.total})\n`);
    }
  }

  /** The run stops in the middle of the current suite: the bar's line is cleared, so the next line starts clean. */
  interrupt(): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }

  private draw(line: string): void {
    const filled = Math.round((this.done / this.total) * BAR_WIDTH);
    const bar = `${'='.repeat(filled)}${filled < BAR_WIDTH ? '>' : ''}${' '.repeat(Math.max(0, BAR_WIDTH - filled - 1))}`;
    const columns = this.stream.columns ?? 100;
    const text = `[${bar}] ${this.done}/${this.total} ${this.current}: ${line}`;
    this.stream.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
  }
}
