// `#/lounges`: the public rooms, with how many people are in each and online
// now (live), joined with one click.
import { api } from '../api.js';
import { go, onEvent } from '../store.js';
import { h, toast } from '../ui.js';

export async function loungesView(main) {
  const list = h('ul', { class: 'people lounges', 'aria-label': 'Lounges' });
  let lounges = [];
  const draw = () => list.replaceChildren(...lounges.map((l) => h('li', { dataset: { id: l.id } },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, '#'),
    h('span', { class: 'who' }, l.title,
      h('small', { class: 'counts' }, `${l.member_count} ${l.member_count === 1 ? 'member' : 'members'} · ${l.online_count} online`)),
    l.joined
      ? h('a', { class: 'btn small', href: `#/chats/${l.id}` }, 'Open')
      : h('button', {
        class: 'btn small primary', type: 'button',
        async onclick() {
          try {
            await api('POST', `/lounges/${l.id}/join`, {});
            go(`#/chats/${l.id}`);
          } catch (err) {
            toast(err.message);
          }
        },
      }, 'Join'))));
  const load = async () => {
    const page = await api('GET', '/lounges?limit=100');
    lounges = page.items;
    draw();
  };
  await load();
  const stop = onEvent((event) => {
    if (event.type !== 'lounge.online') return;
    const lounge = lounges.find((l) => l.id === event.chat_id);
    if (lounge) { lounge.online_count = event.online_count; draw(); }
  });
  main.append(h('div', { class: 'page' },
    h('h1', {}, 'Lounges'),
    h('p', { class: 'hint' }, 'Public rooms where learners practise together. Be kind: people who post the same message again and again are muted for a while.'),
    list));
  return stop;
}
