// app.js: what `npm start` runs (see package.json): hello.js, unchanged.
'use strict';
require('../hello.js');
