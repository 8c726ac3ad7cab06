// /proc/interrupts: which CPUs service each NIC's IRQs.

export interface IrqLine {
  irq: string;
  perCpu: number[];
  /** the device names at the end of the line, e.g. "virtio2-input.0", "eth0-TxRx-3" */
  name: string;
}

export interface Interrupts {
  cpus: string[];
  lines: IrqLine[];
}

export class InterruptsParseError extends Error {}

export function parseInterrupts(text: string): Interrupts {
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const header = rows.shift();
  if (!header || !/^\s*CPU\d+/.test(header)) throw new InterruptsParseError('no "CPU0 CPU1 ..." header');
  const cpus = header.trim().split(/\s+/);
  const lines: IrqLine[] = [];
  for (const row of rows) {
    const m = /^\s*(\w+):\s*(.*)$/.exec(row);
    if (!m) continue;
    const words = m[2]!.trim().split(/\s+/);
    const perCpu: number[] = [];
    while (perCpu.length < cpus.length && /^\d+$/.test(words[0] ?? '')) perCpu.push(Number(words.shift()));
    if (!/^\d+$/.test(m[1]!)) continue; // NMI, LOC...: not device IRQs
    lines.push({ irq: m[1]!, perCpu, name: words.join(' ') });
  }
  return { cpus, lines };
}

/** IRQ lines of an interface: the driver names its vectors after the interface ("eth0-TxRx-0",
 *  "eth0-rx-1") or, for virtio, after the virtio device that `ip -d link`'s parentdev names. */
export function nicIrqs(ints: Interrupts, ifname: string, aliases: string[] = []): IrqLine[] {
  const names = [ifname, ...aliases];
  return ints.lines.filter((l) => l.name.split(/\s+/).some((w) => names.some((n) => w === n || w.startsWith(`${n}-`) || w.startsWith(`${n}:`))));
}

/** The NIC IRQs all land on one CPU on a multi-CPU host (irqbalance off, affinity never set). */
export function allOnOneCpu(lines: IrqLine[], cpuCount: number): { cpu: number } | undefined {
  if (cpuCount < 2 || lines.length < 2) return undefined;
  const busy = new Set<number>();
  for (const l of lines) l.perCpu.forEach((n, cpu) => n > 0 && busy.add(cpu));
  if (busy.size !== 1) return undefined;
  return { cpu: [...busy][0]! };
}
