import test from 'ava';
import { instance, ok, parse } from './helpers.ts';

test('lower_prio_no_advert / higher_prio_send_advert: instance word, else global_defs, strict mode forces the RFC', (t) => {
  t.like(ok(instance('A', ' lower_prio_no_advert\n higher_prio_send_advert true')).vrrpInstances[0], { lowerPrioNoAdvert: true, higherPrioSendAdvert: true });
  const plain = ok(instance('A', '')).vrrpInstances[0]!;
  t.is(plain.lowerPrioNoAdvert, undefined);
  t.is(plain.higherPrioSendAdvert, undefined);
  t.like(ok('global_defs {\n vrrp_lower_prio_no_advert\n vrrp_higher_prio_send_advert\n}\n' + instance('A', '')).vrrpInstances[0], { lowerPrioNoAdvert: true, higherPrioSendAdvert: true });
  t.is(ok('global_defs {\n vrrp_lower_prio_no_advert\n}\n' + instance('A', ' lower_prio_no_advert false')).vrrpInstances[0]!.lowerPrioNoAdvert, undefined, 'the instance overrides');
  const strict = parse(instance('A', ' strict_mode\n lower_prio_no_advert false\n higher_prio_send_advert')).config!.vrrpInstances[0]!;
  t.is(strict.lowerPrioNoAdvert, true);
  t.is(strict.higherPrioSendAdvert, undefined);
  t.is(parse(instance('A', ' lower_prio_no_advert\n higher_prio_send_advert')).diagnostics.length, 0, 'no "not implemented" warning left');
});
