// Builds assets/vendor/plotly.min.js: plotly.js with only the traces of index.js, and
// assets/topojson/world_110m.json, the outline plotly's `geo` subplot loads for a choropleth.
//
//     cd frontend/plotly && npm ci && npm run build
//
// Why: the full plotly.js (4.8 MB) spends most of its size and of a first load's script time on
// maplibre and WebGL, which CityLens does not draw (its maps are SVG, components/figures/geo.py).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..', '..');
const version = require('plotly.js/package.json').version;
const traces = [...fs.readFileSync('index.js', 'utf8').matchAll(/plotly\.js\/lib\/(\w+)'\)/g)]
    .map((m) => m[1])
    .filter((name) => name !== 'core');

// plotly's defaults that reach out of the app, made local so that no copy of this bundle, even one
// whose page sets no config, sends anything out: the world outline comes from its CDN (the app's own
// copy instead), and a "Share chart..." button uploads the figure to Plotly's cloud (off, with no
// address to send to).
const localDefaults = [
    [/dflt: 'https:\/\/cdn\.plot\.ly\/un\/'/, "dflt: '/assets/topojson/'"],
    [/(plotlyServerURL: \{\s*valType: 'string',\s*)dflt: 'https:\/\/cloud\.plotly\.com\/newchart'/, "$1dflt: ''"],
    [/(showSendToCloud: \{\s*valType: 'boolean',\s*)dflt: true/, '$1dflt: false'],
];
const localConfig = {
    name: 'local-defaults',
    setup(build) {
        build.onLoad({ filter: /plot_api[\\/]plot_config\.js$/ }, (args) => {
            let source = fs.readFileSync(args.path, 'utf8');
            for (const [pattern, local] of localDefaults) {
                if (!pattern.test(source)) throw new Error(`no ${pattern} in ${args.path}: check the new plotly.js`);
                source = source.replace(pattern, local);
            }
            return { contents: source, loader: 'js' };
        });
    },
};

await esbuild.build({
    entryPoints: ['index.js'],
    outfile: path.join(root, 'assets', 'vendor', 'plotly.min.js'),
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    target: 'es2016',
    legalComments: 'none',
    banner: {
        js: `/* plotly.js v${version} (MIT, Plotly, Inc.), CityLens bundle: scatter ${traces.join(' ')}. ` +
            'Built by frontend/plotly/build.mjs. */',
    },
    plugins: [localConfig],
    alias: { stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    loader: { '.css': 'empty' }, // maplibre's stylesheet, which registry.js requires for map traces only
    logLevel: 'info',
});

// The geo assets script assigns window.PlotlyGeoAssets; run it against a stand-in window.
const sandbox = {};
new Function('window', 'self', fs.readFileSync(require.resolve('plotly.js/dist/plotly-geo-assets.js'), 'utf8'))(
    sandbox,
    sandbox,
);
const world = (sandbox.PlotlyGeoAssets || sandbox.Plotly).topojson.world_110m;
const topojsonDir = path.join(root, 'assets', 'topojson');
fs.mkdirSync(topojsonDir, { recursive: true });
fs.writeFileSync(path.join(topojsonDir, 'world_110m.json'), JSON.stringify(world));
console.log(`plotly.js ${version}: scatter ${traces.join(' ')}; topojson world_110m`);
