export * from './errors';
export * from './inbound';
export * from './outbound';
