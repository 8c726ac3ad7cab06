// The first thing asked of the peer: who we are there (uid, sudo -n), whether its hagw-doctor is on
// the PATH and which version, and the tools the probe scripts need. A small module on purpose: the
// connection is opened with it before the rest of the doctor has loaded.
export interface PeerHello {
  uid: number;
  sudo: boolean;
  /** absolute path of the peer's hagw-doctor, when on its PATH */
  doctorPath?: string;
  doctorVersion?: string;
  timeout: boolean;
  base64: boolean;
}

export const HELLO_SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  'printf "uid=%s\\n" "$(id -u)"',
  'if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo sudo=yes; fi',
  'd=$(command -v hagw-doctor 2>/dev/null) && printf "doctor=%s\\n" "$d" && printf "doctor-version=%s\\n" "$("$d" --version 2>/dev/null | head -c 64 | head -n 1)"',
  'command -v timeout >/dev/null 2>&1 && echo timeout=yes',
  'command -v base64 >/dev/null 2>&1 && echo base64=yes',
  'true',
  '',
].join('\n');

/** key=value lines; anything unexpected is ignored (hostile input). */
export function parseHello(text: string): PeerHello {
  const kv = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 50)) {
    const m = /^([a-z0-9-]{1,20})=(.{0,300})$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  const uid = Number(kv.get('uid'));
  const doctor = kv.get('doctor');
  const version = /^\d+\.\d+\.\d+[A-Za-z0-9.+-]{0,40}$/.exec(kv.get('doctor-version') ?? '')?.[0];
  return {
    uid: Number.isInteger(uid) && uid >= 0 ? uid : -1,
    sudo: kv.get('sudo') === 'yes',
    ...(doctor && /^\/[A-Za-z0-9._/+-]{1,255}$/.test(doctor) ? { doctorPath: doctor } : {}),
    ...(version ? { doctorVersion: version } : {}),
    timeout: kv.get('timeout') === 'yes',
    base64: kv.get('base64') === 'yes',
  };
}
