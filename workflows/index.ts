/** Every workflow the worker hosts. Workflow code imports nothing but @temporalio/workflow and types. */
export { sendVerificationCode } from './verification/send-verification-code';
