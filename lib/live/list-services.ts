/**
 * `list_services`: what the dialled branch offers, with durations, so the agent can name the
 * choices. No args.
 */
import { z } from 'zod';
import { branchCatalogue } from './catalogue';
import { joinWords, say } from './say';
import { defineFunction } from './types';

export const listServices = defineFunction({
  name: 'list_services',
  needsCall: false,
  args: z.object({}),
  async run(deps, call) {
    const cat = await branchCatalogue(deps.booking, call.where);
    const l = call.lang;
    const services = cat.services.map((s) => ({ slug: s.slug, name: s.name, duration_minutes: s.durationMinutes, aliases: s.aliases }));
    if (!services.length) {
      return { say: say(l, 'Hier sind noch keine Leistungen eingerichtet.', 'No services are set up here yet.'), data: { status: 'none', services } };
    }
    const names = services.map((s) => `${s.name} (${s.duration_minutes} ${say(l, 'Minuten', 'minutes')})`);
    const def = cat.services.find((s) => s.id === cat.defaultServiceId);
    return {
      say: say(l, `Wir bieten ${joinWords(names, l, 'and')} an.`, `We offer ${joinWords(names, l, 'and')}.`),
      data: { status: 'ok', services, default_service: def?.slug ?? null },
    };
  },
});
