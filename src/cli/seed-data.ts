// What `vireo seed` makes: a demo catalog. Titles mix languages so that search shows what it finds.
import type { Category } from '../modules/videos/index.ts';

export const SEED_ADMIN = { username: 'admin', email: 'admin@vireo.example' };

/** Demo passwords: printed by the command; the accounts are for trying Vireo, not for production. */
export const SEED_PASSWORDS = { admin: 'vireo-demo-admin', creator: 'vireo-demo-creator' };

export const SEED_TAGS = [
  'Comedy',
  'Tutorial',
  'Vlog',
  'Unboxing',
  'Live highlights',
  'Music video',
  'Gameplay',
  'Cooking',
  'Travel diary',
  'Tech review',
  'Beginners',
  'Fitness',
  'Animation',
  'Interview',
  'DIY',
];

export interface SeedVideo {
  title: string;
  description: string;
  category: Category;
  tags: string[];
  /** The lavfi source the clip is drawn from, and the pitch of its tone. */
  picture: string;
  tone: number;
}

export interface SeedCreator {
  username: string;
  displayName: string;
  channel: { name: string; description: string; monthlyFee: string };
  videos: SeedVideo[];
}

const v = (
  title: string,
  category: Category,
  tags: string[],
  picture: string,
  tone: number,
  description = '',
): SeedVideo => ({
  title,
  description: description || `${title}: a short demo clip.`,
  category,
  tags,
  picture,
  tone,
});

export const SEED_CREATORS: SeedCreator[] = [
  {
    username: 'creator_alice',
    displayName: 'Alice',
    channel: {
      name: 'Alice Makes Music',
      description: 'Songs, covers and studio diaries.',
      monthlyFee: '4.99',
    },
    videos: [
      v('Morning piano improvisation', 'music', ['music-video', 'vlog'], 'testsrc2', 440),
      v('夜のギター練習', 'music', ['music-video', 'beginners'], 'smptebars', 330),
      v('Home studio tour', 'lifestyle', ['vlog', 'tech-review'], 'rgbtestsrc', 550),
    ],
  },
  {
    username: 'creator_bob',
    displayName: 'Bob',
    channel: { name: 'Bob Plays', description: 'Speedruns and co-op nights.', monthlyFee: '2.99' },
    videos: [
      v('Speedrun practice, level one', 'gaming', ['gameplay', 'live-highlights'], 'mandelbrot', 220),
      v('新手入門：第一個關卡', 'gaming', ['gameplay', 'beginners', 'tutorial'], 'testsrc', 262),
      v('Best moments of the week', 'entertainment', ['live-highlights', 'comedy'], 'life', 294),
    ],
  },
  {
    username: 'creator_carol',
    displayName: 'Carol',
    channel: { name: 'Carol Cooks', description: 'Weeknight recipes from a small kitchen.', monthlyFee: '0' },
    videos: [
      v('Five-minute tomato pasta', 'food', ['cooking', 'tutorial'], 'testsrc2', 349),
      v('美食料理：家常豆腐', 'food', ['cooking', 'beginners'], 'smptehdbars', 392),
      v('Knife skills for beginners', 'education', ['tutorial', 'beginners', 'cooking'], 'yuvtestsrc', 415),
    ],
  },
  {
    username: 'creator_dave',
    displayName: 'Dave',
    channel: { name: 'Dave Reviews Tech', description: 'Unboxings and honest reviews.', monthlyFee: '5.00' },
    videos: [
      v('Unboxing a tiny computer', 'technology', ['unboxing', 'tech-review'], 'rgbtestsrc', 466),
      v('科技評測：入門相機', 'technology', ['tech-review', 'beginners'], 'testsrc', 523),
      v('Build a wooden phone stand', 'lifestyle', ['diy', 'tutorial'], 'cellauto', 587),
    ],
  },
  {
    username: 'creator_emma',
    displayName: 'Emma',
    channel: { name: 'Emma Outdoors', description: 'Trails, trips and training.', monthlyFee: '3.50' },
    videos: [
      v('Sunrise hike in the hills', 'travel', ['travel-diary', 'vlog'], 'mandelbrot', 659),
      v('京都の散歩', 'travel', ['travel-diary'], 'smptebars', 698),
      v('Ten-minute morning workout', 'sports', ['fitness', 'beginners'], 'testsrc2', 784),
      v('Interview with a trail runner', 'sports', ['interview', 'fitness'], 'life', 880),
    ],
  },
];
