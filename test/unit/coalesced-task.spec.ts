import { CoalescedTask } from '../../src/common/coalesced-task';

describe('CoalescedTask', () => {
  it('runs once more after the current run however many calls arrive meanwhile, and every caller sees a run that started after its call', async () => {
    let runs = 0;
    let release!: () => void;
    const task = new CoalescedTask(async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = task.run();
    const during = [task.run(), task.run(), task.run()];
    expect(runs).toBe(1);
    release();
    await Promise.all([first, ...during]);
    expect(runs).toBe(2);
    await task.run();
    expect(runs).toBe(3);
  });

  it('a failed run does not stop the rerun', async () => {
    let runs = 0;
    const task = new CoalescedTask(async () => {
      runs += 1;
      if (runs === 1) throw new Error('first fails');
    });
    const first = task.run();
    const second = task.run();
    await expect(first).rejects.toThrow('first fails');
    await expect(second).resolves.toBeUndefined();
    await task.idle();
    expect(runs).toBe(2);
  });
});
