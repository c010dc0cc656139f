import { randomBytes, randomInt } from 'node:crypto';
import { graphError } from './graph-errors';
import type { SimRequest, SimResponse } from './routes';
import type { SimulatorState } from './state';

/**
 * What Embedded Signup and line management use of Meta's Graph API, for one Meta app (the simulator's app id and
 * app secret):
 * - `GET /{version}/oauth/access_token?client_id&client_secret&code`: a signup code (single use, short-lived)
 *   becomes a business token granted the WABA(s) of that signup;
 * - `GET /{version}/debug_token?input_token` (with the app token `{app-id}|{app-secret}`): the token's
 *   `granular_scopes`, whose `target_ids` name the WABAs granted;
 * - `GET /{version}/{waba-id}/phone_numbers` with `fields`, `limit` and `after` cursors;
 * - `POST /{version}/{phone-number-id}/register {messaging_product, pin}`;
 * - `GET|POST|DELETE /{version}/{waba-id}/subscribed_apps`.
 * A business token reaches only its WABAs and their numbers; the simulator's configured access tokens reach
 * every WABA. Objects a token cannot reach answer as at Meta: code 100, subcode 33.
 *
 * Control API: `POST /_sim/signup` plays a customer finishing Embedded Signup (it creates the WABA and its numbers
 * and answers the code and the session info the page would get), `GET /_sim/wabas` shows what the WABAs hold.
 */

/** The Meta app id the simulator plays unless told another (SIM_APP_ID); its app secret is the one that signs webhooks. */
export const defaultSimulatorAppId = '1000000000000009';

/** A phone number of a WABA. Until registered with the Cloud API it is PENDING (platform NOT_APPLICABLE). */
export interface SimPhoneNumber {
  id: string;
  displayPhoneNumber: string;
  verifiedName: string;
  codeVerificationStatus: 'VERIFIED' | 'NOT_VERIFIED' | 'EXPIRED';
  status: 'CONNECTED' | 'PENDING';
  qualityRating: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';
  platformType: 'CLOUD_API' | 'NOT_APPLICABLE';
  /** The two-step verification PIN, set by the first registration; later registrations must give the same. */
  pin?: string;
}

export interface SimWaba {
  id: string;
  businessId: string;
  phoneNumbers: SimPhoneNumber[];
  /** App ids subscribed to the WABA's webhooks. */
  subscribedApps: string[];
}

interface SignupCode {
  wabaIds: string[];
  expiresAt: number;
  used: boolean;
}

interface BusinessToken {
  appId: string;
  wabaIds: string[];
  issuedAt: number;
}

/** The WABAs, signup codes and business tokens the simulator holds; emptied by POST /_sim/reset. */
export class OnboardingRegistry {
  readonly wabas = new Map<string, SimWaba>();
  readonly codes = new Map<string, SignupCode>();
  readonly tokens = new Map<string, BusinessToken>();

  waba(id: string, businessId?: string): SimWaba {
    let waba = this.wabas.get(id);
    if (!waba) {
      waba = { id, businessId: businessId ?? metaId(), phoneNumbers: [], subscribedApps: [] };
      this.wabas.set(id, waba);
    }
    return waba;
  }

  phone(id: string): { waba: SimWaba; phone: SimPhoneNumber } | undefined {
    for (const waba of this.wabas.values()) {
      const phone = waba.phoneNumbers.find((p) => p.id === id);
      if (phone) return { waba, phone };
    }
    return undefined;
  }
}

/** 15 digits, as Meta's ids of WABAs and phone numbers (randomInt's range is at most 2^48). */
const metaId = () => String(100_000_000_000_000 + randomInt(2 ** 47));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Meta's OAuth errors carry no `(#code)` prefix. */
function oauthError(message: string, code: number, subcode?: number): SimResponse {
  return {
    status: 400,
    body: { error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: randomBytes(12).toString('base64url') } },
  };
}

function unreachable(method: string, id: string): SimResponse {
  return {
    status: 400,
    body: {
      error: {
        message:
          `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, ` +
          'or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api',
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
        fbtrace_id: randomBytes(12).toString('base64url'),
      },
    },
  };
}

const cursor = (index: number) => Buffer.from(String(index)).toString('base64url');
const fromCursor = (value: string | null) => (value ? Number(Buffer.from(value, 'base64url').toString()) || 0 : 0);
const defaultPageSize = 25;
const defaultPhoneFields = ['id', 'display_phone_number', 'verified_name', 'code_verification_status', 'quality_rating'];

function phoneView(p: SimPhoneNumber, fields: string[]): Obj {
  const all: Obj = {
    id: p.id,
    display_phone_number: p.displayPhoneNumber,
    verified_name: p.verifiedName,
    code_verification_status: p.codeVerificationStatus,
    status: p.status,
    quality_rating: p.qualityRating,
    platform_type: p.platformType,
  };
  return Object.fromEntries(Object.entries(all).filter(([k]) => k === 'id' || fields.includes(k)));
}

const graphPath = /^\/v\d+\.\d+\/(oauth\/access_token|debug_token|(\d+)\/(phone_numbers|register|subscribed_apps))\/?$/;

export function createOnboardingEndpoints(state: SimulatorState, appSecret: string) {
  const registry = () => state.onboarding;

  function tokenOf(req: SimRequest): string | undefined {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    return match?.[1] ?? req.query.get('access_token') ?? undefined;
  }

  /** The WABAs a token reaches: all for the configured tokens, its own for a business token; undefined: not a token. */
  function reach(token: string | undefined): ((wabaId: string) => boolean) | undefined {
    if (token === undefined) return undefined;
    if (state.config.accessTokens.includes(token)) return () => true;
    const issued = registry().tokens.get(token);
    return issued ? (wabaId) => issued.wabaIds.includes(wabaId) : undefined;
  }

  function exchangeCode(req: SimRequest): SimResponse {
    if (req.query.get('client_id') !== state.config.appId) return oauthError('Error validating application. Invalid application ID.', 101);
    if (req.query.get('client_secret') !== appSecret) return oauthError('Error validating client secret.', 1);
    const code = req.query.get('code') ?? '';
    const issued = registry().codes.get(code);
    if (!issued) return oauthError('Invalid verification code format.', 100);
    if (issued.used) return oauthError('This authorization code has been used.', 100, 36009);
    if (Date.now() > issued.expiresAt) return oauthError('This authorization code has expired.', 100);
    issued.used = true;
    const token = `EAA${randomBytes(40).toString('base64url')}`;
    registry().tokens.set(token, { appId: state.config.appId, wabaIds: issued.wabaIds, issuedAt: Math.floor(Date.now() / 1000) });
    return { status: 200, body: { access_token: token, token_type: 'bearer' } };
  }

  function debugToken(req: SimRequest): SimResponse {
    const caller = tokenOf(req);
    if (caller !== `${state.config.appId}|${appSecret}` && !reach(caller)) return graphError(190);
    const input = req.query.get('input_token');
    if (!input) return graphError(100, 'The parameter input_token is required');
    const issued = registry().tokens.get(input);
    const wabaIds = issued ? issued.wabaIds : state.config.accessTokens.includes(input) ? [...registry().wabas.keys()] : undefined;
    if (!wabaIds) {
      return { status: 200, body: { data: { error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }, is_valid: false, scopes: [] } } };
    }
    const scopes = ['whatsapp_business_management', 'whatsapp_business_messaging'];
    return {
      status: 200,
      body: {
        data: {
          app_id: state.config.appId,
          type: 'SYSTEM_USER',
          application: 'WhatsApp simulator app',
          data_access_expires_at: 0,
          expires_at: 0,
          is_valid: true,
          issued_at: issued?.issuedAt ?? 0,
          scopes,
          granular_scopes: scopes.map((scope) => ({ scope, target_ids: wabaIds })),
          user_id: '100000000000000',
        },
      },
    };
  }

  function listPhoneNumbers(req: SimRequest, waba: SimWaba): SimResponse {
    const limit = Math.min(Number(req.query.get('limit')) || defaultPageSize, state.config.phoneNumberPageLimit);
    const fields = req.query.get('fields')?.split(',').map((f) => f.trim()) ?? defaultPhoneFields;
    const start = fromCursor(req.query.get('after'));
    const page = waba.phoneNumbers.slice(start, start + limit);
    const more = start + limit < waba.phoneNumbers.length;
    const paging = page.length
      ? { cursors: { before: cursor(start), after: cursor(start + page.length) }, ...(more ? { next: `${req.path}?limit=${limit}&after=${cursor(start + limit)}` } : {}) }
      : undefined;
    return { status: 200, body: { data: page.map((p) => phoneView(p, fields)), ...(paging ? { paging } : {}) } };
  }

  function register(req: SimRequest, phone: SimPhoneNumber): SimResponse {
    const body = isObj(req.body) ? req.body : {};
    if (body.messaging_product !== 'whatsapp') return graphError(100, 'The parameter messaging_product is required and must be whatsapp');
    if (typeof body.pin !== 'string' || !/^\d{6}$/.test(body.pin)) return graphError(100, 'Param pin must be a 6-digit number');
    if (phone.pin !== undefined && phone.pin !== body.pin) return graphError(133005);
    Object.assign(phone, { pin: body.pin, status: 'CONNECTED', platformType: 'CLOUD_API' });
    return { status: 200, body: { success: true } };
  }

  function subscribedApps(req: SimRequest, waba: SimWaba, token: string): SimResponse {
    const appId = registry().tokens.get(token)?.appId ?? state.config.appId;
    if (req.method === 'GET') {
      const data = waba.subscribedApps.map((id) => ({ whatsapp_business_api_data: { id, link: `https://www.facebook.com/games/?app_id=${id}`, name: 'WhatsApp simulator app' } }));
      return { status: 200, body: { data } };
    }
    if (req.method === 'POST' && !waba.subscribedApps.includes(appId)) waba.subscribedApps.push(appId);
    if (req.method === 'DELETE') waba.subscribedApps = waba.subscribedApps.filter((id) => id !== appId);
    return { status: 200, body: { success: true } };
  }

  /** POST /_sim/signup: a customer finished Embedded Signup, creating or choosing a WABA and adding numbers to it. */
  function signup(body: Obj): SimResponse {
    const phones = Array.isArray(body.phones) ? body.phones : Array.from({ length: typeof body.phoneCount === 'number' ? body.phoneCount : 1 }, () => ({}));
    if (phones.length > 100 || !phones.every(isObj)) return { status: 400, body: { error: 'phones must be an array of at most 100 objects' } };
    if (body.wabaId !== undefined && (typeof body.wabaId !== 'string' || !/^\d+$/.test(body.wabaId))) return { status: 400, body: { error: 'wabaId must be digits' } };
    const waba = registry().waba((body.wabaId as string | undefined) ?? metaId());
    const added: SimPhoneNumber[] = [];
    for (const p of phones as Obj[]) {
      const id = typeof p.id === 'string' && /^\d+$/.test(p.id) ? p.id : metaId();
      if (registry().phone(id)) return { status: 400, body: { error: `phone number id ${id} already belongs to a WABA` } };
      const registered = p.status === 'CONNECTED';
      const phone: SimPhoneNumber = {
        id,
        displayPhoneNumber: typeof p.displayPhoneNumber === 'string' ? p.displayPhoneNumber : state.displayPhoneNumber(id),
        verifiedName: typeof p.verifiedName === 'string' ? p.verifiedName : 'Simulated Business',
        codeVerificationStatus: 'VERIFIED',
        status: registered ? 'CONNECTED' : 'PENDING',
        qualityRating: registered ? 'GREEN' : 'UNKNOWN',
        platformType: registered ? 'CLOUD_API' : 'NOT_APPLICABLE',
        ...(typeof p.pin === 'string' ? { pin: p.pin } : {}),
      };
      if (typeof p.displayPhoneNumber === 'string') state.config.displayPhoneNumbers[id] = p.displayPhoneNumber;
      waba.phoneNumbers.push(phone);
      added.push(phone);
    }
    const code = `AQ${randomBytes(48).toString('base64url')}`;
    registry().codes.set(code, { wabaIds: [waba.id], expiresAt: Date.now() + state.config.signupCodeTtlMs, used: false });
    const chosen = body.finishOnlyWaba === true ? undefined : added[0]?.id;
    return {
      status: 200,
      body: {
        code,
        wabaId: waba.id,
        businessId: waba.businessId,
        phoneNumberIds: added.map((p) => p.id),
        sessionInfo: {
          type: 'WA_EMBEDDED_SIGNUP',
          event: chosen ? 'FINISH' : 'FINISH_ONLY_WABA',
          data: { ...(chosen ? { phone_number_id: chosen } : {}), waba_id: waba.id, business_id: waba.businessId },
        },
      },
    };
  }

  return {
    /** The Graph endpoints above, or undefined for a path they do not serve. */
    graph(req: SimRequest): SimResponse | undefined {
      const match = graphPath.exec(req.path);
      if (!match) return undefined;
      if (match[1] === 'oauth/access_token') return req.method === 'GET' ? exchangeCode(req) : undefined;
      if (match[1] === 'debug_token') return req.method === 'GET' ? debugToken(req) : undefined;
      const [, , id, edge] = match;
      const token = tokenOf(req);
      const reaches = reach(token);
      if (!reaches) return graphError(190);
      if (edge === 'register') {
        if (req.method !== 'POST') return undefined;
        const found = registry().phone(id);
        return found && reaches(found.waba.id) ? register(req, found.phone) : unreachable(req.method, id);
      }
      const waba = registry().wabas.get(id);
      if (!waba || !reaches(id)) return unreachable(req.method, id);
      if (edge === 'phone_numbers') return req.method === 'GET' ? listPhoneNumbers(req, waba) : undefined;
      return subscribedApps(req, waba, token!);
    },

    control(req: SimRequest, route: string): SimResponse | undefined {
      if (route === 'POST /_sim/signup') return signup(isObj(req.body) ? req.body : {});
      if (route === 'GET /_sim/wabas') return { status: 200, body: [...registry().wabas.values()] };
      return undefined;
    },

    /** Whether a business token issued by a code exchange is presented: sends and templates accept it too. */
    isBusinessToken: (token: string): boolean => registry().tokens.has(token),
  };
}
