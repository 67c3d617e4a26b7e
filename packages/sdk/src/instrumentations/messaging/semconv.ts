/**
 * OpenTelemetry messaging semantic-convention attribute names used by the queue instrumentations,
 * so a span from `amqplib` or `nats` reads the same as one from an OpenTelemetry instrumentation.
 */
export const MESSAGING = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  batchCount: 'messaging.batch.message_count',
  rabbitRoutingKey: 'messaging.rabbitmq.destination.routing_key',
  rabbitDeliveryTag: 'messaging.rabbitmq.message.delivery_tag',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

/** `messaging.operation.type` values. */
export type OperationType = 'send' | 'receive' | 'process' | 'settle';
