import { twilioSignature, validTwilioSignature } from '../../activities/channels/sms/signature';
import { renderTemplateBody } from '../../activities/channels/sms/render';
import { classOfTwilioError } from '../../activities/channels/sms/twilio-client';

// Twilio's own documented example: auth token 12345, this URL and these POST parameters.
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
const documented = 'GvWf1cFY/Q7PnoempGyD5oXAezc=';

describe('X-Twilio-Signature', () => {
  it("computes Twilio's documented signature: HMAC-SHA1 of the URL and the sorted parameters", () => {
    expect(twilioSignature('12345', url, params)).toBe(documented);
  });

  it('accepts it for any of the URLs the request may have been sent to, and nothing else', () => {
    expect(validTwilioSignature('12345', documented, ['http://internal:3000/myapp.php?foo=1&bar=2', url], params)).toBe(true);
    expect(validTwilioSignature('54321', documented, [url], params)).toBe(false);
    expect(validTwilioSignature('12345', documented, [url], { ...params, Digits: '9999' })).toBe(false);
    expect(validTwilioSignature('12345', documented, ['https://mycompany.com/myapp.php?foo=1&bar=3'], params)).toBe(false);
    expect(validTwilioSignature('12345', undefined, [url], params)).toBe(false);
    expect(validTwilioSignature('12345', 'short', [url], params)).toBe(false);
  });
});

describe('SMS text of a template', () => {
  it('fills positional and named placeholders of the BODY component', () => {
    expect(renderTemplateBody([{ type: 'HEADER', text: 'Hi' }, { type: 'BODY', text: 'Order {{1}} ships {{2}}' }], ['A1', 'today'])).toBe('Order A1 ships today');
    expect(renderTemplateBody([{ type: 'BODY', text: 'Hi {{first_name}}, code {{ code }}, bye {{first_name}}' }], ['Noa', '42'])).toBe('Hi Noa, code 42, bye Noa');
    expect(renderTemplateBody([{ type: 'HEADER', text: 'x' }], [])).toBeUndefined();
  });
});

describe('Twilio errors', () => {
  it('are classified by code, then by HTTP status', () => {
    expect(classOfTwilioError(20003, 401)).toBe('credentials');
    expect(classOfTwilioError(20429, 429)).toBe('rate_limited');
    expect(classOfTwilioError(21211, 400)).toBe('definitive');
    expect(classOfTwilioError(21614, 400)).toBe('definitive');
    expect(classOfTwilioError(undefined, 503)).toBe('transient');
    expect(classOfTwilioError(undefined, 429)).toBe('rate_limited');
  });
});
