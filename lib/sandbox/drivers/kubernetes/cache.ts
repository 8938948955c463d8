import * as k8s from "@kubernetes/client-node";

import { log } from "@/lib/log";

/*
 * A watch-fed cache of one kind of this installation's sandbox objects (list, then watch; relist on
 * 410 Gone or any error), so the boot watchers' frequent status checks cost no API calls. Only hits
 * are trusted: a miss (just created, not yet seen, or deleted) falls back to a GET.
 */

const RESTART_MS = 1000;

export class ObjectWatchCache<T extends k8s.KubernetesObject> {
  private informer: (k8s.Informer<T> & k8s.ObjectCache<T>) | null = null;
  private synced = false;
  private stopped = false;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly path: string,
    private readonly list: () => Promise<k8s.KubernetesListObject<T>>,
    private readonly labelSelector: string,
  ) {}

  start() {
    if (this.informer || this.stopped) return;
    const informer = k8s.makeInformer<T>(this.kc, this.path, this.list, this.labelSelector);
    informer.on(k8s.CONNECT, () => (this.synced = true));
    informer.on(k8s.ERROR, (err) => {
      this.synced = false;
      if (this.stopped) return;
      log.debug("kubernetes watch restarting", { path: this.path, err });
      setTimeout(() => void informer.start().catch(() => undefined), RESTART_MS).unref();
    });
    this.informer = informer;
    void informer
      .start()
      .catch((err: unknown) => log.warn("kubernetes watch failed to start", { path: this.path, err }));
  }

  /** The cached object, or undefined when the cache cannot vouch for it. */
  get(name: string, namespace: string): T | undefined {
    return this.synced ? this.informer?.get(name, namespace) : undefined;
  }

  stop() {
    this.stopped = true;
    void this.informer?.stop();
  }
}
