/**
 * How the page proves it belongs to the runner. The link `course start` prints carries the
 * token; the server moves it into the address's fragment (never sent to any server), the
 * page keeps it in localStorage (scoped to this exact origin, port included, unlike cookies,
 * which a browser sends to every port of 127.0.0.1) and sends it with every API call as
 * `Authorization: Bearer …` and on the terminal socket as `?token=…`.
 */
export const tokenFragmentName = 'layerlab-token';
export const tokenStorageKey = 'layerlab.token';
export const tokenQueryName = 'token';
