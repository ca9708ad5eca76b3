import { Client, Message } from 'node-hl7-client';

/**
 * A monitor gateway as the real MLLP peer: node-hl7-client's Client sends each ORU^R40 over one
 * persistent MLLP connection and hands back the ACK it reads (its own MLLP decoder and HL7 parser).
 */
export interface Hl7Peer {
  send(text: string): Promise<{ code: string; text: string; ack: string }>;
  close(): Promise<void>;
}

export function hl7Peer(port: number): Hl7Peer {
  const client = new Client({ host: '127.0.0.1', version: '2.6' });
  const waiting: ((ack: string) => void)[] = [];
  const conn = client.createConnection({ port, version: '2.6', waitAck: true }, async (res) => {
    waiting.shift()?.(res.getMessage().toString());
  });
  return {
    async send(text) {
      const ack = new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        setTimeout(() => reject(new Error('no ACK within 5 s')), 5_000).unref();
      });
      await conn.sendMessage(new Message({ text }));
      const raw = await ack;
      const parsed = new Message({ text: raw });
      return { code: parsed.get('MSA.1').toString(), text: parsed.get('MSA.3').toString(), ack: raw };
    },
    close: async () => {
      await conn.close();
      client.closeAll();
    },
  };
}

let seq = 0;
/** An IHE PCD ACM Report Alarm; each part can be overridden to build the bad ones. */
export function oruR40(o: { facility?: string; pointOfCare?: string; room?: string; bed?: string; alarmId?: string; text?: string; flags?: string; state?: string; phase?: string; type?: string; controlId?: string } = {}): string {
  seq += 1;
  const f = { facility: 'ICU_GW', pointOfCare: 'ICU', room: '101', bed: '1', alarmId: `ALM-${seq}`, text: 'SPO2 LOW', flags: 'L~PH~SP', state: 'active', phase: 'start', type: 'ORU^R40^ORU_R40', controlId: `MSG${Date.now()}${seq}`, ...o };
  return [
    `MSH|^~\\&|MONITOR_GW|${f.facility}|CLARION|HOSP|20261204120000||${f.type}|${f.controlId}|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4.4^ISO`,
    'PID|||MRN123^^^HOSP^MR||DOE^JANE',
    `PV1||I|${f.pointOfCare}^${f.room}^${f.bed}`,
    `OBR|1|${f.alarmId}^MONITOR_GW|${f.alarmId}^MONITOR_GW|196616^MDC_EVT_ALARM^MDC|||20261204120000`,
    `OBX|1|ST|196648^MDC_EVT_LO^MDC|1.1.1.1.1|${f.text}|||${f.flags}|||F|||20261204120000`,
    'OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1.2|85|262688^MDC_DIM_PERCENT^MDC|||||F',
    `OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.1.1.1.3|${f.phase}||||||F`,
    `OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|1.1.1.1.4|${f.state}||||||F`,
  ].join('\r');
}
