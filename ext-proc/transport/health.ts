import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { EXT_PROC_SERVICE } from './types.js';

/** grpc.health.v1, the Check method only: Envoy's gRPC health checks use nothing else. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** HealthCheckResponse.ServingStatus */
export const ServingStatus = { SERVING: 1, NOT_SERVING: 2 } as const;

/** The services the ext-proc reports on: '' (the whole server) and the ext_proc service. */
export class HealthState {
  private status: number = ServingStatus.SERVING;

  set(serving: boolean): void {
    this.status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** The status of `service`, or undefined for a service this server does not know. */
  of(service: string): number | undefined {
    return service === '' || service === EXT_PROC_SERVICE ? this.status : undefined;
  }
}

/** HealthCheckRequest { string service = 1; } */
export function decodeHealthCheckRequest(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let service = '';
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 2) service = reader.string();
    else reader.skip(wireType);
  }
  return service;
}

/** HealthCheckResponse { ServingStatus status = 1; } */
export function encodeHealthCheckResponse(status: number): Uint8Array {
  return new BinaryWriter().uint32(8).int32(status).finish();
}
