import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * The design system's fonts are bundled, but its @font-face rules also name a CDN copy as a
 * fallback. The console loads nothing from outside its server (and its CSP forbids it), so
 * the fallbacks go.
 */
function localFontsOnly(): Plugin {
  return {
    name: 'ocp-local-fonts-only',
    transform(code, id) {
      if (!id.includes('@oceanbase/design') || !code.includes('alipayobjects.com')) {
        return null;
      }
      return code.replace(/,\s*url\('https:\/\/[^']*alipayobjects\.com[^']*'\)\s*format\('woff2'\)/g, '');
    },
  };
}

/**
 * The design system imports single functions from the whole of lodash (`import { merge } from
 * 'lodash'`), which bundles all of lodash into the first page. Each such import is rewritten to
 * lodash's own per-function module (`import merge from 'lodash/merge'`): the same code, a
 * fraction of the size.
 */
function lodashPerFunction(): Plugin {
  const named = /import\s*\{([^}]*)\}\s*from\s*['"]lodash['"];?/g;
  return {
    name: 'ocp-lodash-per-function',
    transform(code, id) {
      if (!id.includes('node_modules') || !code.includes('lodash')) {
        return null;
      }
      const rewritten = code.replace(named, (_all, names: string) =>
        names
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.length > 0)
          .map((name) => {
            const [imported, local = imported] = name.split(/\s+as\s+/);
            return `import ${local} from 'lodash/${imported}';`;
          })
          .join('\n'),
      );
      return rewritten === code ? null : { code: rewritten, map: null };
    },
  };
}

// The console is served by ocp-server at `/`; `npm run dev` proxies the API to a server on
// 127.0.0.1:8080.
export default defineConfig({
  plugins: [react(), localFontsOnly(), lodashPerFunction()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // React and its routing in a chunk of their own, cached apart from the pages; the
        // design system is split by what each page uses.
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom', '@tanstack/react-query'],
        },
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
