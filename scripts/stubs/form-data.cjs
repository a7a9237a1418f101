// Build-time stand-in for the `form-data` package inside axios (used by acme-client). certkeeper
// never posts multipart forms, and the real package pulls in mime-db (~140 KB of JSON) that every
// run would parse. axios only uses it for `instanceof` checks and to build forms.
module.exports = class FormData {};
