// A test wallet for the portal's end-to-end tests: an EIP-1193 provider that
// signs with the local Hardhat node's unlocked dev accounts by forwarding
// JSON-RPC to the chain. It is injected into the page before any portal code
// (playwright's page.addInitScript, puppeteer's evaluateOnNewDocument), as
//
//   (<this file's function>)({ rpcUrl, chainId: '0x7a69', account, connected?, locked?, delayMs?, chains?, absent? })
//
// (`absent: true` installs nothing: a browser without a wallet.)
//
// (tests/portal/run.mjs: walletScript(options) builds that source). The file is
// one function expression so that nothing but what a wallet defines reaches
// the page's globals.
//
// Seen from the page it behaves like MetaMask (the portal must not be able to
// tell them apart): `window.ethereum` (isMetaMask, request, on/once/
// removeListener/off/addListener/removeAllListeners/listenerCount, legacy
// enable/send/sendAsync, isConnected, chainId/selectedAddress/networkVersion)
// and the same object announced by EIP-6963 (`eip6963:announceProvider`,
// answered again on every `eip6963:requestProvider`, info
// { uuid, name: "Test Wallet", icon: data: URI, rdns: "org.ehrchain.testwallet" }).
// Like MetaMask:
// - a site is not connected until eth_requestAccounts succeeds: before that
//   (and while locked) eth_accounts answers []; eth_requestAccounts connects
//   (and unlocks) unless the test rejects it;
// - eth_chainId is lowercase hex; net_version decimal; a chain the wallet
//   does not know answers wallet_switchEthereumChain with 4902, and
//   wallet_addEthereumChain adds it and switches to it; both emit
//   chainChanged; the wallet's requests go to the RPC URL of its current
//   chain (a chain added without an RPC URL, or the chains given without one
//   such as mainnet 0x1, cannot send anything: -32603);
// - personal_sign, eth_sign, eth_signTypedData_v4 and eth_sendTransaction
//   from another account than the selected one: 4100; eth_signTypedData_v4
//   whose domain.chainId is not the current chain: -32602; a transaction
//   with a `chainId` other than the current one: -32602;
// - errors are Error objects with a numeric `code` (and `data` when the node
//   gave some), e.g. { code: 4001, message: "User rejected the request." };
// - events: connect {chainId} once the page asks anything, accountsChanged,
//   chainChanged, disconnect;
// - its state (account, connection, lock, chains) outlives the page: a reload
//   or a new tab of the same browser profile finds it again (kept in the
//   origin's localStorage under "__testWallet.state"; `fresh: true` ignores it).
//
// The test drives it from the page (page.evaluate) through window.__testWallet:
//   setAccount(address)      select another account (emits accountsChanged if connected)
//   rejectNext(method?)      the next request (of that method, or any of
//                            eth_requestAccounts, wallet_requestPermissions,
//                            personal_sign, eth_sign, eth_signTypedData_v4,
//                            eth_sendTransaction, wallet_switchEthereumChain,
//                            wallet_addEthereumChain) fails with 4001
//   pendingNext(method)      the next `method` request fails with -32002 (MetaMask: a request
//                            of that type is already waiting in the wallet)
//   setChainId(hex)          the wallet moves to another chain (emits chainChanged)
//   locked                   get/set; locking empties eth_accounts (accountsChanged [])
//   connected                get/set (false: as if the user disconnected the site)
//   addChain(hex, rpcUrl)    make a chain known to the wallet
//   requests                 every request seen: { method, params, ok, error? }
//   account, chainId         the current selection
(function installTestWallet(options) {
  'use strict';
  const opts = options || {};
  if (opts.absent) return; // a browser without any wallet
  const lower = (a) => String(a).toLowerCase();
  const hexChain = (c) => '0x' + BigInt(c).toString(16);

  const state = {
    account: opts.account ? lower(opts.account) : null,
    chainId: hexChain(opts.chainId || '0x7a69'),
    connected: !!opts.connected,
    locked: !!opts.locked,
    delayMs: opts.delayMs || 0,
    rejections: [], // pending rejectNext() filters: method name or '*'
    pendings: [], // pendingNext() filters: the next such request answers -32002
    requests: [],
    announcedConnect: false,
  };
  // Chains the wallet knows: chainId hex → RPC URL (null: known, no RPC here).
  const chains = new Map([['0x1', null]]);
  if (opts.chains) for (const [id, url] of Object.entries(opts.chains)) chains.set(hexChain(id), url);
  if (opts.rpcUrl) chains.set(state.chainId, opts.rpcUrl);

  // A wallet's state outlives the page: the selection, the site's connection,
  // the lock and the chains survive a reload or a new tab of the same browser
  // profile (kept in the origin's localStorage, under one key).
  const SAVED = '__testWallet.state';
  const persist = () => {
    try {
      localStorage.setItem(SAVED, JSON.stringify({
        account: state.account, chainId: state.chainId, connected: state.connected, locked: state.locked,
        chains: [...chains.entries()],
      }));
    } catch {
      /* opaque origin (about:blank): nothing to keep */
    }
  };
  try {
    const saved = opts.fresh ? null : JSON.parse(localStorage.getItem(SAVED) || 'null');
    if (saved) {
      Object.assign(state, { account: saved.account, chainId: saved.chainId, connected: saved.connected, locked: saved.locked });
      for (const [id, url] of saved.chains) chains.set(id, url);
    }
  } catch {
    /* no storage */
  }

  const CONFIRMED = new Set([
    'eth_requestAccounts', 'wallet_requestPermissions', 'personal_sign', 'eth_sign', 'eth_signTypedData_v4',
    'eth_sendTransaction', 'wallet_switchEthereumChain', 'wallet_addEthereumChain', 'wallet_watchAsset',
  ]);

  function rpcError(code, message, data) {
    const e = new Error(message);
    e.code = code;
    if (data !== undefined) e.data = data;
    return e;
  }
  const userRejected = () => rpcError(4001, 'User rejected the request.');
  const unauthorized = () => rpcError(4100, 'The requested account and/or method has not been authorized by the user.');
  const invalidParams = (m) => rpcError(-32602, m);

  // ---- events (an EventEmitter like MetaMask's) ----
  const listeners = new Map();
  function on(event, fn) {
    if (typeof fn !== 'function') throw new TypeError('listener must be a function');
    if (!listeners.has(event)) listeners.set(event, []);
    listeners.get(event).push({ fn, once: false });
    return provider;
  }
  function once(event, fn) {
    on(event, fn);
    listeners.get(event)[listeners.get(event).length - 1].once = true;
    return provider;
  }
  function removeListener(event, fn) {
    const list = listeners.get(event);
    if (list) {
      const i = list.findIndex((l) => l.fn === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return provider;
  }
  function emit(event, ...args) {
    persist();
    const list = (listeners.get(event) || []).slice();
    for (const l of list) {
      if (l.once) removeListener(event, l.fn);
      try {
        l.fn(...args);
      } catch (e) {
        setTimeout(() => {
          throw e;
        });
      }
    }
    return list.length > 0;
  }

  // ---- the chain ----
  let nextId = 1;
  async function forward(method, params) {
    const url = chains.get(state.chainId);
    if (!url) throw rpcError(-32603, `Internal JSON-RPC error: the wallet has no RPC endpoint for chain ${state.chainId}.`);
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: params || [] }),
      });
    } catch (e) {
      throw rpcError(-32603, `Internal JSON-RPC error: ${e && e.message ? e.message : e}`);
    }
    const body = await res.json();
    if (body.error) throw rpcError(body.error.code, body.error.message, body.error.data);
    return body.result;
  }

  const visibleAccounts = () => (state.connected && !state.locked && state.account ? [state.account] : []);

  function checkFrom(address) {
    if (!state.connected || state.locked || !address || lower(address) !== state.account) throw unauthorized();
  }

  function takeRejection(method) {
    const i = state.rejections.findIndex((m) => m === method || (m === '*' && CONFIRMED.has(method)));
    if (i < 0) return false;
    state.rejections.splice(i, 1);
    return true;
  }

  function switchTo(chainId) {
    if (chainId === state.chainId) return;
    state.chainId = chainId;
    emit('chainChanged', chainId);
  }

  async function handle(method, params) {
    const pending = state.pendings.indexOf(method);
    if (pending >= 0) {
      state.pendings.splice(pending, 1);
      throw rpcError(-32002, `Request of type '${method}' already pending for origin ${location.origin}. Please wait.`);
    }
    if (CONFIRMED.has(method) && takeRejection(method)) throw userRejected();
    switch (method) {
      case 'eth_chainId':
        return state.chainId;
      case 'net_version':
        return String(BigInt(state.chainId));
      case 'eth_accounts':
        return visibleAccounts();
      case 'eth_coinbase':
        return visibleAccounts()[0] || null;
      case 'eth_requestAccounts':
      case 'wallet_requestPermissions': {
        if (!state.account) throw rpcError(-32603, 'The wallet has no account.');
        const wasVisible = visibleAccounts().length > 0;
        state.connected = true;
        state.locked = false;
        if (!wasVisible) emit('accountsChanged', visibleAccounts());
        if (method === 'eth_requestAccounts') return visibleAccounts();
        return [{ parentCapability: 'eth_accounts', caveats: [{ type: 'restrictReturnedAccounts', value: visibleAccounts() }] }];
      }
      case 'wallet_getPermissions':
        return state.connected ? [{ parentCapability: 'eth_accounts', caveats: [{ type: 'restrictReturnedAccounts', value: [state.account] }] }] : [];
      case 'wallet_revokePermissions':
        if (state.connected) {
          state.connected = false;
          emit('accountsChanged', []);
        }
        return null;
      case 'personal_sign': {
        const [message, address] = params || [];
        checkFrom(address);
        return forward('personal_sign', [message, state.account]);
      }
      case 'eth_sign': {
        const [address, message] = params || [];
        checkFrom(address);
        return forward('eth_sign', [state.account, message]);
      }
      case 'eth_signTypedData_v4': {
        const [address, typed] = params || [];
        checkFrom(address);
        let data;
        try {
          data = typeof typed === 'string' ? JSON.parse(typed) : typed;
        } catch {
          throw invalidParams('Invalid parameters: typed data must be a JSON string.');
        }
        const domainChain = data && data.domain && data.domain.chainId;
        if (domainChain !== undefined && domainChain !== null && BigInt(domainChain) !== BigInt(state.chainId)) {
          throw invalidParams(`Provided chainId "${BigInt(domainChain)}" must match the active chainId "${BigInt(state.chainId)}"`);
        }
        return forward('eth_signTypedData_v4', [state.account, typeof typed === 'string' ? typed : JSON.stringify(typed)]);
      }
      case 'eth_sendTransaction': {
        const tx = Object.assign({}, (params || [])[0]);
        if (tx.from !== undefined) checkFrom(tx.from);
        else if (!visibleAccounts().length) throw unauthorized();
        if (tx.chainId !== undefined && BigInt(tx.chainId) !== BigInt(state.chainId)) {
          throw invalidParams(`Invalid transaction params: chainId should be same as current chainId.`);
        }
        tx.from = state.account;
        delete tx.chainId;
        return forward('eth_sendTransaction', [tx]);
      }
      case 'wallet_switchEthereumChain': {
        const id = params && params[0] && params[0].chainId;
        if (typeof id !== 'string' || !/^0x[0-9a-fA-F]+$/.test(id)) throw invalidParams(`Invalid parameters: chainId must be a hex string.`);
        const chainId = hexChain(id);
        if (!chains.has(chainId)) {
          throw rpcError(4902, `Unrecognized chain ID "${chainId}". Try adding the chain using wallet_addEthereumChain first.`);
        }
        switchTo(chainId);
        return null;
      }
      case 'wallet_addEthereumChain': {
        const p = (params && params[0]) || {};
        if (typeof p.chainId !== 'string' || !/^0x[0-9a-fA-F]+$/.test(p.chainId)) throw invalidParams('Invalid parameters: chainId must be a hex string.');
        if (!Array.isArray(p.rpcUrls) || p.rpcUrls.length === 0 || typeof p.rpcUrls[0] !== 'string') throw invalidParams('Invalid parameters: rpcUrls must be a non-empty array.');
        if (typeof p.chainName !== 'string' || !p.chainName) throw invalidParams('Invalid parameters: chainName is required.');
        if (p.nativeCurrency && (typeof p.nativeCurrency.symbol !== 'string' || p.nativeCurrency.decimals !== 18)) {
          throw invalidParams('Invalid parameters: nativeCurrency needs a symbol and 18 decimals.');
        }
        const chainId = hexChain(p.chainId);
        if (!chains.get(chainId)) chains.set(chainId, p.rpcUrls[0]);
        switchTo(chainId); // MetaMask then asks to switch; the test user accepts
        return null;
      }
      default:
        return forward(method, params);
    }
  }

  async function request(args) {
    if (!args || typeof args !== 'object' || Array.isArray(args)) {
      throw rpcError(-32600, 'Expected a single, non-array, object argument.');
    }
    const { method, params } = args;
    if (typeof method !== 'string' || method.length === 0) throw rpcError(-32600, "'args.method' must be a non-empty string.");
    if (params !== undefined && (typeof params !== 'object' || params === null)) {
      throw rpcError(-32600, "'args.params' must be an object or array if provided.");
    }
    const entry = { method, params: params === undefined ? [] : JSON.parse(JSON.stringify(params)), ok: false };
    state.requests.push(entry);
    if (!state.announcedConnect) {
      state.announcedConnect = true;
      setTimeout(() => emit('connect', { chainId: state.chainId }));
    }
    if (state.delayMs && CONFIRMED.has(method)) await new Promise((r) => setTimeout(r, state.delayMs));
    try {
      const result = await handle(method, params);
      persist();
      entry.ok = true;
      return result;
    } catch (e) {
      entry.error = { code: e.code, message: e.message };
      throw e;
    }
  }

  const provider = {
    isMetaMask: true,
    _metamask: { isUnlocked: async () => !state.locked },
    request,
    on,
    addListener: on,
    once,
    removeListener,
    off: removeListener,
    removeAllListeners(event) {
      if (event === undefined) listeners.clear();
      else listeners.delete(event);
      return provider;
    },
    listenerCount: (event) => (listeners.get(event) || []).length,
    emit,
    isConnected: () => true,
    enable: () => request({ method: 'eth_requestAccounts' }),
    send(methodOrPayload, paramsOrCallback) {
      if (typeof methodOrPayload === 'string') return request({ method: methodOrPayload, params: paramsOrCallback });
      return provider.sendAsync(methodOrPayload, paramsOrCallback);
    },
    sendAsync(payload, callback) {
      request({ method: payload.method, params: payload.params }).then(
        (result) => callback(null, { id: payload.id, jsonrpc: '2.0', result }),
        (error) => callback(error, { id: payload.id, jsonrpc: '2.0', error: { code: error.code, message: error.message } }),
      );
    },
  };
  Object.defineProperties(provider, {
    chainId: { get: () => state.chainId, enumerable: true },
    networkVersion: { get: () => String(BigInt(state.chainId)), enumerable: true },
    selectedAddress: { get: () => visibleAccounts()[0] || null, enumerable: true },
  });

  // ---- test controls ----
  const controls = {
    setAccount(address) {
      state.account = lower(address);
      persist();
      if (visibleAccounts().length) emit('accountsChanged', visibleAccounts());
    },
    rejectNext(method) {
      state.rejections.push(method || '*');
    },
    pendingNext(method) {
      state.pendings.push(method);
    },
    setChainId(hex) {
      const chainId = hexChain(hex);
      if (!chains.has(chainId)) chains.set(chainId, null);
      switchTo(chainId);
    },
    addChain(hex, rpcUrl) {
      chains.set(hexChain(hex), rpcUrl || null);
      persist();
    },
    disconnect() {
      emit('disconnect', rpcError(4900, 'The provider is disconnected from all chains.'));
    },
    get locked() {
      return state.locked;
    },
    set locked(v) {
      const before = visibleAccounts().length;
      state.locked = !!v;
      persist();
      if (before !== visibleAccounts().length) emit('accountsChanged', visibleAccounts());
    },
    get connected() {
      return state.connected;
    },
    set connected(v) {
      const before = visibleAccounts().length;
      state.connected = !!v;
      persist();
      if (before !== visibleAccounts().length) emit('accountsChanged', visibleAccounts());
    },
    get account() {
      return state.account;
    },
    get chainId() {
      return state.chainId;
    },
    get requests() {
      return state.requests;
    },
    set delayMs(v) {
      state.delayMs = v;
    },
  };
  Object.defineProperty(window, '__testWallet', { value: controls, configurable: true });

  // ---- exposure: window.ethereum and EIP-6963 ----
  Object.defineProperty(window, 'ethereum', { value: provider, configurable: true, writable: true });
  const icon = 'data:image/svg+xml;base64,' + btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f6f5c"/>' +
    '<path d="M8 11h16v12H8z" fill="none" stroke="#fff" stroke-width="2"/><circle cx="20" cy="17" r="2" fill="#fff"/></svg>');
  const uuid = (crypto.randomUUID && crypto.randomUUID()) || '5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b';
  const detail = Object.freeze({
    info: Object.freeze({ uuid, name: 'Test Wallet', icon, rdns: 'org.ehrchain.testwallet' }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})
