/**
 * A journey's plain sends run as local activities: inside the workflow task that decided them, with no
 * activity task to schedule, dispatch and complete (three history events and a workflow task fewer, and the
 * message leaves a Temporal round trip sooner). A workflow task must not wait long, though: a send whose line
 * is backed up is refused with LINE_BUSY before it takes a slot, and the journey sends it as an activity.
 */

/** The failure type of a send refused because its line is backed up (OutboundSend.maxLineWaitMs). */
export const LINE_BUSY = 'line_busy';

/** How long a send inside a workflow task may wait for its line's slot. */
export const LOCAL_SEND_MAX_LINE_WAIT_MS = 1_000;
