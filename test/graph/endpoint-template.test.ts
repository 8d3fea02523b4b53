/** mm_graph_errors_total's labels are bounded: an endpoint is a path template, never an id. */
import { endpointTemplate, errorCodeLabel } from '../../graph/endpoint-template';

test('every path the client calls becomes its template: ids (and anything unknown) are {id}, edges stay', () => {
  expect(endpointTemplate('/200000000000001')).toBe('/{id}');
  expect(endpointTemplate('/200000000000001/phone_numbers')).toBe('/{id}/phone_numbers');
  expect(endpointTemplate('/100000000000002/onboard_partners_to_mm_lite')).toBe('/{id}/onboard_partners_to_mm_lite');
  expect(endpointTemplate('/oauth/access_token')).toBe('/oauth/access_token');
  expect(endpointTemplate('/debug_token?input_token=secret')).toBe('/debug_token');
  expect(endpointTemplate('/300000000000003/marketing_messages')).toBe('/{id}/marketing_messages');
  // A segment no call of this client has (an encoded bad id, say) cannot open a new label value.
  expect(endpointTemplate('/abc%2Fdef/whatever_else')).toBe('/{id}/{id}');
});

test("the code is Meta's when it gave one, else what kind of failure it was", () => {
  expect(errorCodeLabel({ name: 'GraphNeedsAttentionError', code: 190, httpStatus: 400 })).toBe('190');
  expect(errorCodeLabel({ name: 'GraphRetryableError', httpStatus: 0 })).toBe('network');
  expect(errorCodeLabel({ name: 'GraphRetryableError', httpStatus: 502 })).toBe('http_502');
  expect(errorCodeLabel({ name: 'GraphResponseError', httpStatus: 200 })).toBe('bad_response');
});
