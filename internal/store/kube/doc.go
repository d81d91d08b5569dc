// Package kube is rotor's store over Kubernetes Secrets (--store kube).
//
// # Layout
//
// A rotor secret is a Secret in one namespace, plus a companion Secret that
// holds what consumers do not read:
//
//   - The Secret (named after the secret, see below) is what workloads mount
//     or read. Its data always holds the AWSCURRENT value: a value that is a
//     JSON object whose keys are valid data keys puts each top-level field
//     under its own key (strings as they are, other JSON values as their
//     JSON text), so {"access_key_id":"AKIA…","secret_access_key":"…"}
//     becomes the data keys access_key_id and secret_access_key; any other
//     value, or every value when the annotation rotor.io/data-key names a
//     key, goes whole under that key ("value" by default). The annotation
//     rotor.io/version names the version the data holds.
//   - The companion Secret <object name>.rotor (label rotor.io/state=true, owner reference to the Secret, so Kubernetes deletes it with the
//     Secret) holds every version with its value, the staging labels
//     (AWSPENDING for resuming a rotation, AWSPREVIOUS for the grace period,
//     the revocations still due), tags, description and rotation dates, as
//     JSON under the data key "state".
//
// A Secret without a companion is adopted when rotor recognises it: it has
// the annotation rotor.io/kind, or the label aws-rotate-key=true of the IAM
// key rotation tool this store replaces. Its data becomes the first version
// (AWSCURRENT): the JSON object of its data keys, or with rotor.io/data-key
// the value of that key alone. The companion is written with the first
// change rotor makes.
//
// # Names
//
// A secret whose name is a valid Secret name (a DNS subdomain of at most 247
// characters not ending in ".rotor") is the Secret of that name. Any other
// Secrets Manager name (upper case, "/", "_", …) is kept in a Secret whose
// name is the name lowered, with other characters replaced by "-", and a
// hash of the name appended; the annotation rotor.io/name records the
// original. An id namespace/name with the store's namespace is the Secret
// name, as kubectl writes it (see names.go); the store reads one namespace.
//
// # Options
//
// Annotations rotor.io/<option> on the Secret are the secret's rotor:<option>
// tags (rotor.io/kind is rotor:kind, and so on), and rotor:* tags set through
// rotor are written back as those annotations. The label aws-rotate-key=true
// means kind iam-access-key with auth=self and user-from=key (the key's own
// user, as STS names it) unless annotations say otherwise: a Secret made for
// the IAM key rotation tool rotates unchanged.
//
// A Secret that rotor.io/kind or aws-rotate-key configures has rotation
// enabled, on the schedule of the annotation rotor.io/schedule (rate(…) or
// cron(…), as in Secrets Manager) if any. Until its first rotation it is
// due, and without a schedule it is due on every run of rotate --due, as
// the IAM key rotation tool rotated on every run of its CronJob.
//
// # Consistency
//
// Every write is conditional on the resourceVersion the operation read: a
// concurrent change (another rotor, kubectl) makes the write fail with a
// conflict, and the operation is read and run again; nothing is overwritten
// blindly. The companion is written first and is the source of truth; the
// Secret's data follows. A process that dies between the two leaves the data
// one version behind, and the next operation that reads the secret brings it
// up to date.
//
// LockRotation holds a Lease <object name>.rotor-lock (coordination.k8s.io)
// for the length of a rotation, renewed every LeaseDuration/3; a Lease its
// holder stopped renewing for LeaseDuration (the process died) is taken over.
// That is measured on the API server's clock: the Lease's last write (its
// managed fields' time) against the Date of the answer that read it, not the
// renewTime the holder's clock wrote.
package kube
