/**
 * The policy setting that holds the model chosen with `/molt model`. The supervisor reads it when
 * it starts the gateway (a chosen model outlives restarts and sleeps); the command writes it.
 */
export const PRIMARY_MODEL_SETTING = "model.primary";
