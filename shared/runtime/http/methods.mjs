/**
 * The HTTP methods a handler file can serve, lowercase, in the order the route table and the OpenAPI
 * document list one path's methods. Plain JavaScript, so that the build's discovery can read it under plain
 * Node.
 */
export const HTTP_METHODS = /** @type {const} */ ([
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'head',
  'options',
]);
