// whisper-engine: a long-lived whisper.cpp process that loads one model once and then
// transcribes utterances sent over stdin, answering on stdout. Logs go to stderr only, so
// stdout carries nothing but frames.
//
//   whisper-engine --model PATH [--threads N] [--max-seconds S] [--verbose]
//
// Run it with OMP_WAIT_POLICY=passive in its environment (WhisperEngine does): spinning
// OpenMP workers make every call 10-40x slower once other busy threads share the cores.
//
// Protocol version 1 (mirrored in main/bot/engine/protocol.ts; change both together).
// Every message in either direction is one frame, integers little-endian:
//
//   u32 headerBytes | u32 payloadBytes | header: UTF-8 JSON object | payload: raw bytes
//
// engine -> host, once, after the model has loaded:
//   {"ready":true,"protocol":1,"loadMs":N,"whisperVersion":"1.9.1","system":"AVX2 = 1 ...",
//    "model":{"type":"tiny","multilingual":false,"nVocab":51864,"nAudioCtx":1500},
//    "threads":2,"maxSamples":480000}
//   A model that fails to load exits with status 3 before any frame (reason on stderr).
//
// host -> engine, a request (payload = float32 PCM, mono, 16 kHz):
//   {"id":7,"language":"en"|"auto","audio_ctx":0,"translate":false,"prompt":"optional"}
//   audio_ctx 0 means the model's own context (1500 = 30 s); a smaller one makes the
//   encoder cost proportional to the clip instead of always paying for 30 s.
//
// engine -> host, exactly one response per request, in request order, payload empty:
//   {"id":7,"text":"...","segments":[{"t0Ms":0,"t1Ms":2400,"text":"..."}],
//    "language":"en","encodeMs":101.2,"totalMs":180.4}
//   {"id":7,"error":"message","code":"bad-request"|"too-long"|"bad-audio"|"failed"}
//
// Bad requests (bad JSON, NaN/Inf samples, too many samples, unknown language) get an error
// response and the engine keeps serving. A header over 1 MiB means the stream is out of step;
// the engine then exits with status 2 and the host restarts it. EOF on stdin between frames
// is a normal shutdown (status 0).

#include "whisper.h"
#include "json.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <csignal>
#endif

using json = nlohmann::json;

namespace {

constexpr int kProtocol = 1;
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
constexpr int kSampleRate = 16000;

bool g_verbose = false;

void logf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("[whisper-engine] ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
}

// whisper.cpp logs every load step and decode at INFO; a warm engine would flood the host's
// log, so only warnings and errors pass unless --verbose.
void whisper_log(enum ggml_log_level level, const char *text, void *) {
    if (!g_verbose && (level == GGML_LOG_LEVEL_INFO || level == GGML_LOG_LEVEL_DEBUG || level == GGML_LOG_LEVEL_CONT)) {
        return;
    }
    std::fputs(text, stderr);
}

uint32_t read_u32le(const unsigned char *b) {
    return uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
}

void write_u32le(unsigned char *b, uint32_t v) {
    b[0] = uint8_t(v);
    b[1] = uint8_t(v >> 8);
    b[2] = uint8_t(v >> 16);
    b[3] = uint8_t(v >> 24);
}

enum class ReadStatus { ok, eof_clean, eof_mid };

// fread loops over short reads itself; a short count means EOF or error.
ReadStatus read_exact(void *dst, size_t n, bool at_frame_start) {
    size_t got = n == 0 ? 0 : std::fread(dst, 1, n, stdin);
    if (got == n) return ReadStatus::ok;
    return (got == 0 && at_frame_start) ? ReadStatus::eof_clean : ReadStatus::eof_mid;
}

bool skip_bytes(uint64_t n) {
    std::vector<unsigned char> sink(1 << 16);
    while (n > 0) {
        size_t chunk = size_t(std::min<uint64_t>(n, sink.size()));
        if (std::fread(sink.data(), 1, chunk, stdin) != chunk) return false;
        n -= chunk;
    }
    return true;
}

void write_frame(const json &header) {
    // Segment text is cut at token boundaries, which can split a UTF-8 sequence; replace
    // rather than throw so a response always goes out.
    const std::string body = header.dump(-1, ' ', false, json::error_handler_t::replace);
    unsigned char prefix[8];
    write_u32le(prefix, uint32_t(body.size()));
    write_u32le(prefix + 4, 0);
    if (std::fwrite(prefix, 1, 8, stdout) != 8 || std::fwrite(body.data(), 1, body.size(), stdout) != body.size() ||
        std::fflush(stdout) != 0) {
        // The host is gone; nobody is left to answer.
        logf("stdout closed, exiting");
        std::exit(0);
    }
}

json error_response(const json &id, const std::string &code, const std::string &message) {
    return json{{"id", id}, {"error", message}, {"code", code}};
}

struct Options {
    std::string model;
    int threads = 0;
    double max_seconds = 30.0;
};

[[noreturn]] void usage(const char *why) {
    logf("%s", why);
    logf("usage: whisper-engine --model PATH [--threads N] [--max-seconds S] [--verbose]");
    std::exit(64);
}

Options parse_args(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + a).c_str());
            return argv[++i];
        };
        if (a == "--model") {
            o.model = value();
        } else if (a == "--threads") {
            o.threads = std::atoi(value().c_str());
            if (o.threads < 1 || o.threads > 256) usage("--threads must be 1..256");
        } else if (a == "--max-seconds") {
            o.max_seconds = std::atof(value().c_str());
            if (!(o.max_seconds > 0 && o.max_seconds <= 3600)) usage("--max-seconds must be in (0, 3600]");
        } else if (a == "--verbose") {
            g_verbose = true;
        } else {
            usage(("unknown argument " + a).c_str());
        }
    }
    if (o.model.empty()) usage("--model is required");
    if (o.threads == 0) {
        const unsigned hw = std::thread::hardware_concurrency();
        o.threads = int(std::clamp(hw == 0 ? 2u : hw, 1u, 4u));
    }
    return o;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

class Engine {
public:
    Engine(whisper_context *ctx, int threads, size_t max_samples)
        : ctx_(ctx), threads_(threads), max_samples_(max_samples),
          multilingual_(whisper_is_multilingual(ctx) != 0), n_audio_ctx_(whisper_model_n_audio_ctx(ctx)) {}

    json handle(const json &id, const json &req, const std::vector<float> &pcm) {
        std::string language = "en";
        if (req.contains("language") && !req["language"].is_null()) {
            if (!req["language"].is_string()) return error_response(id, "bad-request", "language must be a string");
            language = req["language"].get<std::string>();
        }
        if (language.empty()) language = "auto";
        if (!multilingual_) {
            // English-only models cannot detect or transcribe other languages; asking for one
            // would silently produce English-shaped garbage.
            if (language != "auto" && language != "en") {
                return error_response(id, "bad-request", "model is English-only; cannot transcribe language '" + language + "'");
            }
            language = "en";
        } else if (language != "auto" && whisper_lang_id(language.c_str()) < 0) {
            return error_response(id, "bad-request", "unknown language '" + language + "'");
        }

        int audio_ctx = 0;
        if (req.contains("audio_ctx") && !req["audio_ctx"].is_null()) {
            if (!req["audio_ctx"].is_number_integer()) return error_response(id, "bad-request", "audio_ctx must be an integer");
            const auto v = req["audio_ctx"].get<int64_t>();
            if (v < 0 || v > n_audio_ctx_) {
                return error_response(id, "bad-request", "audio_ctx must be 0..." + std::to_string(n_audio_ctx_));
            }
            audio_ctx = int(v);
        }

        bool translate = false;
        if (req.contains("translate") && !req["translate"].is_null()) {
            if (!req["translate"].is_boolean()) return error_response(id, "bad-request", "translate must be a boolean");
            translate = req["translate"].get<bool>();
        }

        std::string prompt;
        if (req.contains("prompt") && !req["prompt"].is_null()) {
            if (!req["prompt"].is_string()) return error_response(id, "bad-request", "prompt must be a string");
            prompt = req["prompt"].get<std::string>();
        }

        if (pcm.empty()) return error_response(id, "bad-audio", "no samples");
        for (size_t i = 0; i < pcm.size(); ++i) {
            if (!std::isfinite(pcm[i])) {
                return error_response(id, "bad-audio", "sample " + std::to_string(i) + " is not a finite number (NaN or Infinity)");
            }
        }

        whisper_full_params p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
        p.n_threads = threads_;
        // Defaults print progress and realtime text with printf, i.e. onto our frame channel.
        p.print_progress = false;
        p.print_realtime = false;
        p.print_timestamps = false;
        p.print_special = false;
        // Utterances are independent (different speakers, gaps): the previous one's text must
        // not condition the next.
        p.no_context = true;
        p.language = language.c_str();
        p.translate = translate;
        p.audio_ctx = audio_ctx;
        p.initial_prompt = prompt.empty() ? nullptr : prompt.c_str();
        p.suppress_nst = true;

        whisper_reset_timings(ctx_);
        const auto t0 = std::chrono::steady_clock::now();
        const int rc = whisper_full(ctx_, p, pcm.data(), int(pcm.size()));
        const double total_ms = ms_since(t0);
        if (rc != 0) return error_response(id, "failed", "whisper_full failed with code " + std::to_string(rc));

        const whisper_timings *timings = whisper_get_timings(ctx_);
        json segments = json::array();
        std::string text;
        const int n = whisper_full_n_segments(ctx_);
        for (int i = 0; i < n; ++i) {
            const char *s = whisper_full_get_segment_text(ctx_, i);
            const std::string seg = s ? s : "";
            // t0/t1 are in centiseconds.
            segments.push_back({{"t0Ms", whisper_full_get_segment_t0(ctx_, i) * 10},
                                {"t1Ms", whisper_full_get_segment_t1(ctx_, i) * 10},
                                {"text", trim(seg)}});
            text += seg;
        }
        const int lang_id = whisper_full_lang_id(ctx_);
        const char *lang = lang_id >= 0 ? whisper_lang_str(lang_id) : nullptr;
        return json{{"id", id},
                    {"text", trim(text)},
                    {"segments", segments},
                    {"language", lang ? json(lang) : json(nullptr)},
                    {"encodeMs", timings ? timings->encode_ms : 0.0},
                    {"totalMs", total_ms}};
    }

    size_t max_samples() const { return max_samples_; }

private:
    static std::string trim(const std::string &s) {
        const auto b = s.find_first_not_of(" \t\r\n");
        if (b == std::string::npos) return "";
        const auto e = s.find_last_not_of(" \t\r\n");
        return s.substr(b, e - b + 1);
    }

    whisper_context *ctx_;
    int threads_;
    size_t max_samples_;
    bool multilingual_;
    int n_audio_ctx_;
};

}  // namespace

int main(int argc, char **argv) {
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#else
    // A vanished host must surface as a failed write (handled), not kill us mid-log.
    std::signal(SIGPIPE, SIG_IGN);
#endif
    {
        const uint16_t probe = 1;
        if (*reinterpret_cast<const unsigned char *>(&probe) != 1) {
            logf("big-endian hosts are not supported (PCM payload is little-endian float32)");
            return 70;
        }
    }

    // On a failed assertion ggml attaches gdb to print a backtrace: slow, noisy, and ptrace in
    // a desktop app. GGML_NO_BACKTRACE set by the caller (even empty) still wins.
#ifdef _WIN32
    if (std::getenv("GGML_NO_BACKTRACE") == nullptr) _putenv_s("GGML_NO_BACKTRACE", "1");
#else
    setenv("GGML_NO_BACKTRACE", "1", 0);
#endif

    const Options opt = parse_args(argc, argv);
    whisper_log_set(whisper_log, nullptr);

    const auto t_load = std::chrono::steady_clock::now();
    whisper_context_params cparams = whisper_context_default_params();
    cparams.use_gpu = false;
    whisper_context *ctx = whisper_init_from_file_with_params(opt.model.c_str(), cparams);
    if (ctx == nullptr) {
        logf("failed to load model '%s'", opt.model.c_str());
        return 3;
    }
    const double load_ms = ms_since(t_load);

    const size_t max_samples = size_t(opt.max_seconds * kSampleRate);
    Engine engine(ctx, opt.threads, max_samples);
    logf("ready: model %s (%s), %d threads, load %.0f ms", opt.model.c_str(), whisper_model_type_readable(ctx), opt.threads, load_ms);

    write_frame(json{{"ready", true},
                     {"protocol", kProtocol},
                     {"loadMs", load_ms},
                     {"whisperVersion", whisper_version()},
                     {"system", whisper_print_system_info()},
                     {"model",
                      {{"type", whisper_model_type_readable(ctx)},
                       {"multilingual", whisper_is_multilingual(ctx) != 0},
                       {"nVocab", whisper_model_n_vocab(ctx)},
                       {"nAudioCtx", whisper_model_n_audio_ctx(ctx)}}},
                     {"threads", opt.threads},
                     {"maxSamples", max_samples}});

    std::vector<char> header_buf;
    std::vector<float> pcm;
    int status = 0;
    for (;;) {
        unsigned char prefix[8];
        const ReadStatus rs = read_exact(prefix, 8, true);
        if (rs == ReadStatus::eof_clean) {
            break;
        }
        if (rs == ReadStatus::eof_mid) {
            logf("stdin closed in the middle of a frame prefix");
            status = 1;
            break;
        }
        const uint32_t header_bytes = read_u32le(prefix);
        const uint32_t payload_bytes = read_u32le(prefix + 4);
        if (header_bytes == 0 || header_bytes > kMaxHeaderBytes) {
            logf("frame header of %u bytes: stream out of step, exiting", header_bytes);
            status = 2;
            break;
        }
        header_buf.resize(header_bytes);
        if (read_exact(header_buf.data(), header_bytes, false) != ReadStatus::ok) {
            logf("stdin closed in the middle of a frame header");
            status = 1;
            break;
        }

        json id = nullptr;
        json req = json::parse(header_buf.begin(), header_buf.end(), nullptr, false);
        if (req.is_object() && req.contains("id")) id = req["id"];

        // The payload is consumed whatever we think of the request, so the stream stays framed.
        const bool too_long = payload_bytes / sizeof(float) > max_samples;
        if (too_long || payload_bytes % sizeof(float) != 0) {
            if (!skip_bytes(payload_bytes)) {
                logf("stdin closed in the middle of a payload");
                status = 1;
                break;
            }
            if (too_long) {
                char msg[160];
                std::snprintf(msg, sizeof msg, "audio is %.1f s; this engine accepts at most %.1f s per request",
                              double(payload_bytes / sizeof(float)) / kSampleRate, opt.max_seconds);
                write_frame(error_response(id, "too-long", msg));
            } else {
                write_frame(error_response(id, "bad-audio", "payload is not a whole number of float32 samples"));
            }
            continue;
        }
        try {
            pcm.resize(payload_bytes / sizeof(float));
        } catch (const std::exception &e) {
            skip_bytes(payload_bytes);
            write_frame(error_response(id, "failed", std::string("out of memory: ") + e.what()));
            continue;
        }
        if (read_exact(pcm.data(), payload_bytes, false) != ReadStatus::ok) {
            logf("stdin closed in the middle of a payload");
            status = 1;
            break;
        }

        if (!req.is_object()) {
            write_frame(error_response(id, "bad-request", "request header is not a JSON object"));
            continue;
        }
        if (!req.contains("id") || !(req["id"].is_number_integer() || req["id"].is_string())) {
            write_frame(error_response(id, "bad-request", "request id must be an integer or a string"));
            continue;
        }
        try {
            write_frame(engine.handle(id, req, pcm));
        } catch (const std::exception &e) {
            write_frame(error_response(id, "failed", e.what()));
        }
    }

    whisper_free(ctx);
    if (status == 0) logf("stdin closed, exiting");
    return status;
}
