// The ack bench's floor: a Worker that answers 200 to every request without reading it, served by
// the same plain workerd host and load generator as the real Worker. Whatever it can't beat on
// this machine, no Worker can.
export default {
  fetch() {
    return new Response("ok");
  },
};
