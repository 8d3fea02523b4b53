/**
 * How long a recheck waits for the status read that answers it. The workflow answers a recheck with
 * the first status read that begins after it: at once with its own bounded read (4 attempts within
 * 20 s), or, when a read of its own is already retrying a Graph fault (10 attempts over minutes),
 * only after that one; when Meta throttles the read for longer than the bound, the read waits the
 * throttle out (the status is kept meanwhile). The API does not wait out the update deadline for it
 * (a 504 after 30 s): past RECHECK_ANSWER_MS it answers 202 with the state, the recheck still asked.
 */

/** The bounded read's 20 s and its queue time, and still well inside the update deadline. */
const RECHECK_ANSWER_MS = 25_000;
/** Kept between the answer and the update deadline, so the deadline never answers first. */
const DEADLINE_MARGIN_MS = 5_000;

/** What a 202 says, beside the state. */
export const RECHECK_PENDING_REASON =
  "the recheck is asked, but Meta has not answered it yet: a read of Meta's status already under way is retrying a Graph error and goes first, " +
  "or Meta is throttling this WABA's status reads and the read waits as long as Meta asks (the status stays as it is meanwhile). " +
  'GET the onboarding for the outcome; asking again adds nothing';

export const recheckAnswerMs = (updateDeadlineMs: number) => Math.max(1_000, Math.min(RECHECK_ANSWER_MS, updateDeadlineMs - DEADLINE_MARGIN_MS));

/** `answer`'s value, or undefined when it has not come by `deadline` (epoch ms); a later failure is ignored. */
export async function answerBy<T>(answer: Promise<T>, deadline: number): Promise<T | undefined> {
  answer.catch(() => undefined); // not waited for past the deadline: its rejection must not go unhandled
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
