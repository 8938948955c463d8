export declare const SNAPSHOT: 0x01;
export declare const OUTPUT: 0x02;
export declare const STATUS: 0x03;
export declare const INPUT: 0x11;
export declare const RESIZE: 0x12;
export declare const START: 0x13;
export declare const MAX_FRAME: number;

export type Frame = { type: number; payload: Buffer };

export declare function encodeFrame(type: number, payload: string | Uint8Array): Buffer;

export declare class FrameDecoder {
  push(chunk: Buffer): Frame[];
}
