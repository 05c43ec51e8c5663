/** The console's entry point (bundled by apps/console/build.ts into dist/console.js). */
import { render } from 'preact';
import { App } from './app';

render(<App />, document.getElementById('app')!);
