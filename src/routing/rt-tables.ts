// rt_tables: the number <-> name map of routing tables (/etc/iproute2/rt_tables, rt_tables.d/*.conf,
// and /usr/share/iproute2/rt_tables on iproute2 >= 6.5, where /etc only overrides).

export interface RtTableEntry {
  id: number;
  name: string;
  file: string;
  line: number;
}

export interface RtTablesProblem {
  file: string;
  line: number;
  text: string;
  why: string;
}

export interface RtTables {
  entries: RtTableEntry[];
  problems: RtTablesProblem[];
}

/** The tables the kernel always has, named whatever rt_tables says. */
export const RESERVED_TABLES: Readonly<Record<string, number>> = { unspec: 0, default: 253, main: 254, local: 255 };

const MAX_TABLE = 0xffffffff;

/** Parses one rt_tables-format file: "NUMBER NAME" per line, '#' comments. iproute2 accepts hex numbers. */
export function parseRtTables(text: string, file: string): RtTables {
  const entries: RtTableEntry[] = [];
  const problems: RtTablesProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const words = line.split(/\s+/);
    const [num, name] = words;
    const id = num !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(num) ? Number(num) : NaN;
    if (Number.isNaN(id) || id > MAX_TABLE) {
      problems.push({
        file,
        line: i + 1,
        text: raw.trimEnd(),
        why: num !== undefined && /^[A-Za-z_]/.test(num) ? 'a name with no number' : 'not a table number',
      });
      return;
    }
    if (name === undefined) {
      problems.push({ file, line: i + 1, text: raw.trimEnd(), why: 'a number with no name' });
      return;
    }
    entries.push({ id, name, file, line: i + 1 });
  });
  return { entries, problems };
}

/** Merges files in the order iproute2 reads them (later files add to earlier ones); also reports
 *  a name given two numbers, which makes `table NAME` ambiguous. */
export function mergeRtTables(parts: RtTables[]): RtTables {
  const entries = parts.flatMap((p) => p.entries);
  const problems = parts.flatMap((p) => p.problems);
  const byName = new Map<string, RtTableEntry>();
  for (const e of entries) {
    const prev = byName.get(e.name);
    if (prev && prev.id !== e.id) {
      problems.push({
        file: e.file,
        line: e.line,
        text: `${e.id} ${e.name}`,
        why: `the name ${e.name} is already table ${prev.id} (${prev.file}:${prev.line})`,
      });
    }
    byName.set(e.name, e);
  }
  return { entries, problems };
}

export class TableNames {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();
  constructor(tables: RtTables) {
    for (const [name, id] of Object.entries(RESERVED_TABLES)) {
      this.byId.set(id, name);
      this.byName.set(name, id);
    }
    for (const e of tables.entries) {
      this.byId.set(e.id, e.name);
      this.byName.set(e.name, e.id);
    }
  }
  nameOf(id: number): string | undefined {
    return this.byId.get(id);
  }
  idOf(name: string): number | undefined {
    return this.byName.get(name);
  }
  /** "100", "0x64" or "lvs_nat" -> 100; undefined for an unknown name */
  resolve(table: string): number | undefined {
    if (/^(0x[0-9a-f]+|\d+)$/i.test(table)) return Number(table);
    return this.byName.get(table);
  }
}
