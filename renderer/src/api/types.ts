import type { FactorLabClient } from '../../../electron/contract.ts';

export interface ConnectionState {
  status: 'connecting' | 'open' | 'reconnecting' | 'closed';
  /** Failed attempts since the last successful connection. */
  attempt: number;
  /** Why the last attempt failed, for the status bar. */
  detail: string | null;
  retryInMs?: number;
}

/** The contract's client plus what the UI needs to show the state of the transport. */
export interface LabClient extends FactorLabClient {
  /** `gen`: a generated image of the patch loop (the lab image route's `gen/<id>`). */
  imageUrl(kind: 'thumb' | 'full' | 'gen' | 'disc', imageId: number): string;
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  reconnectNow(): void;
  close(): void;
}
