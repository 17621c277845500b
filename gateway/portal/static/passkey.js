// Passkeys in the citizen portal (W3C Web Authentication). A submit button that carries
// data-passkey-options runs the ceremony those options describe - "registration" creates a
// passkey, "assertion" signs the challenge of one decision - puts the answer and the signed
// challenge in the form's hidden fields and submits the form. A TOTP code typed in the same
// form goes instead, without a ceremony. No inline script: the portal's CSP forbids it.
"use strict";

(function () {
  function bytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
  }

  function text(buffer) {
    const binary = String.fromCharCode(...new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: bytes(d.id) }));
  }

  function creation(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      user: Object.assign({}, options.user, { id: bytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function request(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function answer(credential) {
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: text(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = text(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = text(response.authenticatorData);
      json.response.signature = text(response.signature);
      if (response.userHandle) {
        json.response.userHandle = text(response.userHandle);
      }
    }
    return json;
  }

  async function ceremony(button) {
    const options = JSON.parse(button.dataset.passkeyOptions);
    if (button.dataset.passkeyCeremony === "registration") {
      return navigator.credentials.create({ publicKey: creation(options) });
    }
    return navigator.credentials.get({ publicKey: request(options) });
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const button = event.submitter;
    if (!button || !button.dataset.passkeyOptions || form.dataset.passkeyDone === "1") {
      return;
    }
    const code = form.querySelector('input[name="totp_code"]');
    if (code && code.value.trim() !== "") {
      return;
    }
    event.preventDefault();
    const failure = form.querySelector(".passkey-error");
    try {
      const credential = await ceremony(button);
      form.querySelector('input[name="passkey_challenge"]').value = button.dataset.passkeyChallenge;
      form.querySelector('input[name="passkey_credential"]').value = JSON.stringify(answer(credential));
      form.dataset.passkeyDone = "1";
      form.requestSubmit(button);
    } catch (error) {
      if (failure) {
        failure.hidden = false;
      }
    }
  });
})();
