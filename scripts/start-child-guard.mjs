// Preloaded (`node --import`) into the server and worker that `npm start` launches, over an IPC channel:
// when npm start goes away for any reason, SIGKILL included, the channel closes and the child shuts down
// as on SIGTERM, so nothing is left running in the background. unref(): the channel alone must not keep
// a child alive that is otherwise done.
process.channel?.unref();
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
