// One execution environment of the local Lambda emulator (./lambda-emulator.ts): imports the
// function's handler once, then runs one invocation at a time as the emulator sends them over IPC,
// as Lambda's runtime does for the invocations of one sandbox.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dir = process.env.LAMBDA_EMULATOR_CODE_DIR;
const [file, exported] = (process.env._HANDLER ?? 'index.handler').split('.');
const loaded = import(pathToFileURL(join(dir, `${file}.js`)).href);

process.on('message', async (msg) => {
  const { requestId, event, deadline } = msg;
  const context = {
    awsRequestId: requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  console.log(`START RequestId: ${requestId} Version: $LATEST`);
  try {
    const result = await (await loaded)[exported](event, context);
    process.send({ requestId, ok: true, result: result === undefined ? null : result });
  } catch (err) {
    console.error(`ERROR RequestId: ${requestId} ${err?.stack ?? err}`);
    process.send({
      requestId,
      ok: false,
      error: { errorType: err?.name ?? 'Error', errorMessage: err?.message ?? String(err) },
    });
  }
  console.log(`END RequestId: ${requestId}`);
});
process.send({ ready: true });
