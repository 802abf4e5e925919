/*
 * prism_echo_client: calls a Prism service through the broker from C (libzmq + protobuf-c).
 *
 *   prism_echo_client [--timeout-ms N] ENDPOINT SERVICE BODY [COUNT]
 *       Sends BODY to SERVICE COUNT times (default 1), one call after the other, and prints each
 *       reply body followed by a newline on stdout. Exit status: 0 when every call was answered OK,
 *       1 on a non-OK status (its name and message go to stderr, e.g. "UNAVAILABLE: ..."),
 *       2 on a usage error, 3 on a local failure (socket, encoding).
 *   prism_echo_client --encode-only
 *       Prints the hex of a fixed Envelope (see encode_fixture) and exits: the tests compare it
 *       with swift-protobuf's encoding of the same message.
 *
 * Build (see the Makefile next to this file):
 *   cc -std=c11 -O2 -Wall -Wextra -I generated prism_echo_client.c generated/prism/v1/fleet.pb-c.c \
 *      -lzmq -lprotobuf-c -o prism_echo_client
 *
 * Wire format (Protos/PROTOCOL.md): a DEALER sends exactly three frames
 *   ["PRISM/C1", 0x02 (REQUEST), prism.v1.Envelope] and the broker answers
 *   ["PRISM/C1", 0x03 (REPLY), prism.v1.Reply].
 * Like the Swift client, a call gets a UUID request id and an absolute deadline; an unanswered
 * request is re-sent with the same id and attempt + 1 every resend interval until the deadline,
 * and replies for other request ids (late duplicates) are dropped.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "prism/v1/fleet.pb-c.h"

#define TAG "PRISM/C1"
#define TAG_LEN 8
#define CMD_REQUEST 0x02
#define CMD_REPLY 0x03
#define RESEND_INTERVAL_MS 1000
#define EXIT_STATUS 1
#define EXIT_USAGE 2
#define EXIT_LOCAL 3

static int64_t unix_time_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random (version 4) UUID in its canonical lower-case form; out must hold 37 bytes. */
static int make_uuid(char out[37]) {
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL) return -1;
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got != sizeof b) return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

static const char *code_name(int code, char buf[32]) {
    const ProtobufCEnumValue *value = protobuf_c_enum_descriptor_get_value(&prism__v1__status__code__descriptor, code);
    if (value != NULL) return value->name;
    snprintf(buf, 32, "CODE_%d", code);
    return buf;
}

/* Packs `envelope` and sends the three frames. Returns 0, or -1 (errno from libzmq). */
static int send_request(void *socket, const Prism__V1__Envelope *envelope) {
    size_t size = prism__v1__envelope__get_packed_size(envelope);
    uint8_t *bytes = malloc(size > 0 ? size : 1);
    if (bytes == NULL) return -1;
    prism__v1__envelope__pack(envelope, bytes);
    unsigned char command = CMD_REQUEST;
    int rc = -1;
    if (zmq_send(socket, TAG, TAG_LEN, ZMQ_SNDMORE) == TAG_LEN &&
        zmq_send(socket, &command, 1, ZMQ_SNDMORE) == 1 &&
        zmq_send(socket, bytes, size, 0) == (int)size) {
        rc = 0;
    }
    free(bytes);
    return rc;
}

/*
 * Receives one whole multipart message. Returns the Reply when it is a well-formed REPLY,
 * NULL otherwise (malformed messages are reported on stderr and dropped). *failed is set when
 * the socket itself failed.
 */
static Prism__V1__Reply *receive_reply(void *socket, int *failed) {
    zmq_msg_t parts[3];
    int count = 0, more = 1;
    *failed = 0;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, socket, 0) < 0) {
            zmq_msg_close(&msg);
            *failed = 1;
            break;
        }
        more = zmq_msg_more(&msg);
        if (count < 3) {
            parts[count] = msg;
        } else {
            zmq_msg_close(&msg);
        }
        count++;
    }
    Prism__V1__Reply *reply = NULL;
    if (!*failed) {
        if (count != 3 || zmq_msg_size(&parts[0]) != TAG_LEN || memcmp(zmq_msg_data(&parts[0]), TAG, TAG_LEN) != 0 ||
            zmq_msg_size(&parts[1]) != 1 || *(unsigned char *)zmq_msg_data(&parts[1]) != CMD_REPLY) {
            fprintf(stderr, "prism_echo_client: dropped a message that is not a REPLY (%d frames)\n", count);
        } else {
            reply = prism__v1__reply__unpack(NULL, zmq_msg_size(&parts[2]), zmq_msg_data(&parts[2]));
            if (reply == NULL) fprintf(stderr, "prism_echo_client: dropped a REPLY whose body does not decode\n");
        }
    }
    for (int i = 0; i < count && i < 3; i++) zmq_msg_close(&parts[i]);
    return reply;
}

static int metadata_is(const Prism__V1__Reply *reply, const char *key, const char *value) {
    for (size_t i = 0; i < reply->n_metadata; i++) {
        if (strcmp(reply->metadata[i]->key, key) == 0 && strcmp(reply->metadata[i]->value, value) == 0) return 1;
    }
    return 0;
}

/* One call: sends until answered or past the deadline. Returns an exit status (0 = OK). */
static int call_once(void *socket, const char *service, const char *body, int64_t timeout_ms) {
    char request_id[37];
    if (make_uuid(request_id) != 0) {
        fprintf(stderr, "prism_echo_client: cannot read /dev/urandom\n");
        return EXIT_LOCAL;
    }
    Prism__V1__Envelope envelope = PRISM__V1__ENVELOPE__INIT;
    envelope.request_id = request_id;
    envelope.service = (char *)service;
    envelope.deadline_unix_ms = unix_time_ms() + timeout_ms;
    envelope.attempt = 1;
    envelope.body.data = (uint8_t *)body;
    envelope.body.len = strlen(body);
    if (send_request(socket, &envelope) != 0) {
        fprintf(stderr, "prism_echo_client: send failed: %s\n", zmq_strerror(zmq_errno()));
        return EXIT_LOCAL;
    }
    int64_t next_resend = unix_time_ms() + RESEND_INTERVAL_MS;
    for (;;) {
        int64_t now = unix_time_ms();
        if (now >= envelope.deadline_unix_ms) {
            fprintf(stderr, "DEADLINE_EXCEEDED: no reply within the deadline (%" PRIu32 " attempts)\n", envelope.attempt);
            return EXIT_STATUS;
        }
        if (now >= next_resend) {
            envelope.attempt += 1;  /* same request id: the broker answers it once */
            if (send_request(socket, &envelope) != 0) {
                fprintf(stderr, "prism_echo_client: send failed: %s\n", zmq_strerror(zmq_errno()));
                return EXIT_LOCAL;
            }
            next_resend = now + RESEND_INTERVAL_MS;
        }
        int64_t wait = next_resend < envelope.deadline_unix_ms ? next_resend - now : envelope.deadline_unix_ms - now;
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, (long)(wait > 0 ? wait : 0));
        if (ready < 0) {
            if (zmq_errno() == EINTR) continue;
            fprintf(stderr, "prism_echo_client: poll failed: %s\n", zmq_strerror(zmq_errno()));
            return EXIT_LOCAL;
        }
        if (ready == 0 || !(item.revents & ZMQ_POLLIN)) continue;
        int failed = 0;
        Prism__V1__Reply *reply = receive_reply(socket, &failed);
        if (failed) {
            fprintf(stderr, "prism_echo_client: receive failed: %s\n", zmq_strerror(zmq_errno()));
            return EXIT_LOCAL;
        }
        if (reply == NULL) continue;
        int code = reply->status != NULL ? (int)reply->status->code : 0;
        const char *message = reply->status != NULL ? reply->status->message : "";
        int result = -1;
        if (reply->request_id[0] == '\0') {
            /* The broker could not read the request (e.g. over its size limit): it will not answer it. */
            char buf[32];
            fprintf(stderr, "%s: %s\n", code_name(code, buf), message);
            result = EXIT_STATUS;
        } else if (strcmp(reply->request_id, request_id) != 0) {
            /* A late reply to an earlier call: drop it. */
        } else if (metadata_is(reply, "prism-retry", "true")) {
            /* The broker is going away: send again soon (same id) rather than fail. */
            int64_t soon = unix_time_ms() + 100;
            if (soon < next_resend) next_resend = soon;
        } else if (code != PRISM__V1__STATUS__CODE__OK) {
            char buf[32];
            fprintf(stderr, "%s: %s\n", code_name(code, buf), message);
            result = EXIT_STATUS;
        } else {
            fwrite(reply->body.data, 1, reply->body.len, stdout);
            fputc('\n', stdout);
            result = 0;
        }
        prism__v1__reply__free_unpacked(reply, NULL);
        if (result >= 0) return result;
    }
}

/* The fixed Envelope of --encode-only; InteropTests builds the same one with swift-protobuf. */
static int encode_fixture(void) {
    static const uint8_t body[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 'h', 0xc3, 0xa9};
    Prism__V1__Envelope__MetadataEntry entry = PRISM__V1__ENVELOPE__METADATA_ENTRY__INIT;
    entry.key = "trace-id";
    entry.value = "abc\xe2\x9c\x93";  /* "abc✓" */
    Prism__V1__Envelope__MetadataEntry *entries[] = {&entry};
    Prism__V1__Envelope envelope = PRISM__V1__ENVELOPE__INIT;
    envelope.request_id = "6f1c2a9e-3b4d-4e5f-8a7b-0123456789ab";
    envelope.service = "echo";
    envelope.method = "m\xc3\xa9thode";  /* "méthode" */
    envelope.deadline_unix_ms = INT64_C(1767225600123);
    envelope.attempt = 300;
    envelope.n_metadata = 1;
    envelope.metadata = entries;
    envelope.body.data = (uint8_t *)body;
    envelope.body.len = sizeof body;
    size_t size = prism__v1__envelope__get_packed_size(&envelope);
    uint8_t *bytes = malloc(size);
    if (bytes == NULL) return EXIT_LOCAL;
    prism__v1__envelope__pack(&envelope, bytes);
    for (size_t i = 0; i < size; i++) printf("%02x", bytes[i]);
    printf("\n");
    free(bytes);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: prism_echo_client [--timeout-ms N] ENDPOINT SERVICE BODY [COUNT]\n"
                    "       prism_echo_client --encode-only\n");
    return EXIT_USAGE;
}

static int parse_positive(const char *text, long long *out) {
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1) return -1;
    *out = value;
    return 0;
}

int main(int argc, char **argv) {
    int arg = 1;
    long long timeout_ms = 5000;
    if (argc == 2 && strcmp(argv[1], "--encode-only") == 0) return encode_fixture();
    if (argc > arg + 1 && strcmp(argv[arg], "--timeout-ms") == 0) {
        if (parse_positive(argv[arg + 1], &timeout_ms) != 0) return usage();
        arg += 2;
    }
    int positional = argc - arg;
    if (positional != 3 && positional != 4) return usage();
    const char *endpoint = argv[arg], *service = argv[arg + 1], *body = argv[arg + 2];
    long long count = 1;
    if (positional == 4 && parse_positive(argv[arg + 3], &count) != 0) return usage();

    void *context = zmq_ctx_new();
    void *socket = context != NULL ? zmq_socket(context, ZMQ_DEALER) : NULL;
    if (socket == NULL) {
        fprintf(stderr, "prism_echo_client: cannot create a socket: %s\n", zmq_strerror(zmq_errno()));
        return EXIT_LOCAL;
    }
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(socket, endpoint) != 0) {
        fprintf(stderr, "prism_echo_client: cannot connect to %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(socket);
        zmq_ctx_term(context);
        return EXIT_USAGE;
    }
    int status = 0;
    for (long long i = 0; i < count && status == 0; i++) status = call_once(socket, service, body, timeout_ms);
    fflush(stdout);
    zmq_close(socket);
    zmq_ctx_term(context);
    return status;
}
