import type { MikroORM } from '@mikro-orm/postgresql';
import type { CodeSender } from './notify/code-sender';
import { verificationActivities } from './notify/verification';

export interface ActivityDeps {
  orm: MikroORM;
  codeSender: CodeSender;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...verificationActivities({ orm: deps.orm, sender: deps.codeSender }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
