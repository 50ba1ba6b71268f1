import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { HOSTILE } from './hostile-strings.js';
import { formatSyslog, tcpTransport, udpTransport } from '../../src/enforce/index.js';
import { escapeMessage, escapeParamValue, safeJsonLine } from '../../src/enforce/syslog.js';

const MSG = {
  severity: 'alert' as const,
  msgId: 'KILLED',
  message: 'killed container bad (0123456789ab) image r/x:v1: no signatures',
  data: { container_id: '0123456789ab', image: 'r/x:v1', reason: 'say "hi" \\ [x]', absent: undefined },
  timestamp: new Date('2026-11-24T12:00:00.123Z'),
};
const FORMAT = { hostname: 'runner-1', appName: 'cosign-ts-killer', procId: '42' };
const LINE =
  '<9>1 2026-11-24T12:00:00.123Z runner-1 cosign-ts-killer 42 KILLED [cosign-ts@32473 container_id="0123456789ab" image="r/x:v1" reason="say \\"hi\\" \\\\ [x\\]"] killed container bad (0123456789ab) image r/x:v1: no signatures';

describe('syslog (RFC 5424)', () => {
  it('formats header, structured data and escaping exactly', () => {
    expect(formatSyslog(MSG, FORMAT)).toBe(LINE);
    expect(escapeParamValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    expect(formatSyslog({ severity: 'info', msgId: '', message: 'm', timestamp: MSG.timestamp }, { hostname: '', appName: 'a', procId: '1' })).toBe(
      '<14>1 2026-11-24T12:00:00.123Z - a 1 - - m',
    );
  });

  it('UDP: one datagram per message', async () => {
    const sock = dgram.createSocket('udp4');
    const got = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const t = udpTransport('127.0.0.1', sock.address().port);
    await t.send(LINE, MSG);
    expect(await got).toBe(LINE);
    await t.close();
    sock.close();
  });

  it('TCP: octet-counting framing', async () => {
    let data = '';
    const server = net.createServer((s) => s.on('data', (d) => (data += d.toString())));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const t = tcpTransport('127.0.0.1', (server.address() as net.AddressInfo).port);
    await t.send(LINE, MSG);
    await t.send('second', MSG);
    await new Promise((r) => setTimeout(r, 100));
    expect(data).toBe(`${Buffer.byteLength(LINE)} ${LINE}6 second`);
    await t.close();
    server.close();
  });
});

const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** Parse RFC 5424 structured data `[id k="v" …]` at the start of `s` (§6.3): the params and what follows. */
function parseSd(s: string): { params: Record<string, string>; rest: string } {
  expect(s[0]).toBe('[');
  let i = s.indexOf(' ');
  const params: Record<string, string> = {};
  while (s[i] === ' ') {
    const eq = s.indexOf('=', i);
    const key = s.slice(i + 1, eq);
    expect(s[eq + 1]).toBe('"');
    let v = '';
    let j = eq + 2;
    for (; s[j] !== '"'; j++) {
      if (j >= s.length) throw new Error('unterminated PARAM-VALUE');
      if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\' || s[j + 1] === ']')) j++;
      v += s[j];
    }
    params[key] = v;
    i = j + 1;
  }
  expect(s[i]).toBe(']');
  return { params, rest: s.slice(i + 1) };
}

describe('hostile strings in logs (no forged lines, no broken structured data)', () => {
  it.each(HOSTILE)('syslog line with %j in every field stays one line with intact SD', (h) => {
    const line = formatSyslog(
      {
        severity: 'alert',
        msgId: `K${h}`,
        message: `killed ${h} image ${h}`,
        data: { image: h, container_name: h, reason: h, digest: h },
        timestamp: MSG.timestamp,
      },
      { ...FORMAT, hostname: `host${h}` },
    );
    expect(line).not.toMatch(RAW_UNSAFE);
    const header = line.split(' ').slice(0, 6);
    expect(header).toHaveLength(6);
    const sd = parseSd(line.slice(header.join(' ').length + 1));
    expect(Object.keys(sd.params)).toEqual(['image', 'container_name', 'reason', 'digest']);
    expect(sd.params.image).toBe(sd.params.reason);
    expect(sd.rest).toBe(` killed ${escapeMessage(h)} image ${escapeMessage(h)}`);
  });

  it('escapes visibly and unambiguously', () => {
    expect(escapeMessage('a\nb\\nc\u0000\u2028\u001b[0m')).toBe('a\\nb\\\\nc\\x00\\u2028\\x1b[0m');
    expect(escapeParamValue('x]\n"\\')).toBe('x\\]\\n\\"\\\\');
    for (const h of HOSTILE) {
      const j = safeJsonLine({ h });
      expect(j).not.toMatch(RAW_UNSAFE);
      expect(JSON.parse(j)).toEqual({ h });
    }
  });
});
