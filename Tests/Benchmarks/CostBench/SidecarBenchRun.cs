using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CaptionSidecar.Costs;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Benchmarks.CostBench;

/// <summary>The files of a bench: the speech, its sentences' timing, and the fake's script.</summary>
/// <param name="Sidecar">The sidecar's built assembly (<c>CaptionSidecar.dll</c>).</param>
/// <param name="Work">The work folder; each run gets a folder under <c>runs/</c>.</param>
/// <param name="Script">The fake's script (tab-separated, a row per sentence, <c>en es fr de</c>).</param>
internal sealed record BenchFiles(string Sidecar, string Work, string Script);

/// <summary>
/// One run of the sidecar process against a fresh in-process fake Realtime server (so the script starts at its first
/// line): the sidecar reads a speech file (<c>--input file:… --exit-at-end</c>), its <c>/api/status</c> is polled
/// every 250 ms for the cost meter's reading, and afterwards the transcripts give the line counts and, for paced runs,
/// the latencies. In text mode a translation session that is sent audio ends the run: the sidecar ran audio
/// translation instead, i.e. it does not support <c>--translate-from text</c> yet.
/// </summary>
internal static class SidecarBenchRun
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);

    public static async Task<BenchOutcome> RunAsync(BenchRun run, BenchFiles files, string audio, IReadOnlyList<SpeechTurn> turns, CancellationToken ct)
    {
        var folder = Path.Combine(files.Work, "runs", run.Slug);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        var transcripts = Path.Combine(folder, "out");
        var audioSeconds = turns.Count > 0 ? WavSeconds(audio) : 0;
        await using var fake = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromFile(files.Script), MinimumLogLevel = LogLevel.Error },
            ct);
        var httpPort = FreePort();
        var input = run.Paced ? audio : Path.Combine(folder, "audio.fifo");
        using var pacer = run.Paced ? null : await StartPacerAsync(audio, input, run.Speed, ct);
        string[] arguments =
        [
            files.Sidecar, "--input", "file:" + input, "--exit-at-end", "--engine", "openai", "--api-key", "test-key",
            "--realtime-endpoint", fake.Endpoint.ToString(), "--language", "en", "--transcribe-model", "gpt-4o-transcribe",
            .. run.SidecarArguments(),
            "--no-obs", "--http-port", httpPort.ToString(CultureInfo.InvariantCulture), "--transcript-dir", transcripts,
            "--data-dir", Path.Combine(folder, "data"), "--log-level", "Information",
        ];
        await File.WriteAllTextAsync(Path.Combine(folder, "command.txt"), "dotnet " + string.Join(' ', arguments.Select(Quote)) + "\n", ct);

        // The shell only redirects the streams to files (exec replaces it), so nothing here has to drain pipes.
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "exec dotnet \"$@\" > \"$OUT\" 2> \"$ERR\"", "sidecar" },
            UseShellExecute = false,
            Environment = { ["OUT"] = Path.Combine(folder, "sidecar.out"), ["ERR"] = Path.Combine(folder, "sidecar.err") },
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        var limit = run.Paced ? TimeSpan.FromSeconds(audioSeconds + 180) : TimeSpan.FromMinutes(20);
        var exited = process.WaitForExitAsync(ct);
        IReadOnlyList<MeteredLanguage> meter = [];
        DateTimeOffset? audioStart = null;
        string? failure = null;
        while (!exited.IsCompleted)
        {
            if (await ReadStatusAsync(http, ct) is { } status)
            {
                meter = status.Meter.Count > 0 ? status.Meter : meter;
                audioStart ??= status.InputOpened;
            }

            if (run.Mode == "text" && fake.Sessions.FirstOrDefault(s => s.SessionType == FakeSessionType.Realtime && s.AppendedBytes > 0) is { } heard)
            {
                failure = $"this sidecar does not support --translate-from text yet: its translation session {heard.Id} ({heard.Model}) was sent audio, so it translated from audio";
            }
            else if (stopwatch.Elapsed > limit)
            {
                failure = $"the sidecar did not finish within {limit.TotalMinutes:0} minutes";
            }

            if (failure is not null)
            {
                process.Kill(entireProcessTree: true);
                break;
            }

            await Task.WhenAny(exited, Task.Delay(PollEvery, ct));
        }

        await process.WaitForExitAsync(ct);
        var wall = stopwatch.Elapsed;
        if (pacer is { HasExited: false })
        {
            pacer.Kill(entireProcessTree: true);
        }

        var stderr = await File.ReadAllTextAsync(Path.Combine(folder, "sidecar.err"), ct);
        if (failure is null && process.ExitCode != 0)
        {
            var refused = stderr.Contains("translate-from", StringComparison.OrdinalIgnoreCase) || stderr.Contains("text-translate-model", StringComparison.OrdinalIgnoreCase);
            failure = refused
                ? $"this sidecar does not support --translate-from {run.Mode}: {FirstLines(stderr)}"
                : $"the sidecar exited with {process.ExitCode}: {FirstLines(stderr)} (see {folder}/sidecar.err)";
        }

        var lines = new[] { "en" }.Concat(run.Targets).ToDictionary(l => l, l => LatencyFigures.Read(transcripts, l).Count, StringComparer.Ordinal);
        LatencyFigures? latency = null;
        if (failure is null && run.Paced)
        {
            latency = audioStart is { } opened
                ? LatencyFigures.Measure(transcripts, turns, opened, "en", run.Targets[0])
                : null;
            failure = latency is null ? "the input's opening time was never read from /api/status (input.since), so speech ends have no wall time" : null;
        }

        await File.WriteAllLinesAsync(Path.Combine(folder, "fake-sessions.txt"), fake.Sessions.Select(Describe), ct);
        var contexts = fake.Sessions.Where(s => s.SessionType == FakeSessionType.Realtime)
            .SelectMany(s => s.ResponseRequests.Select(r => r.Context?.Count ?? r.Conversation.Count)).ToList();
        return new BenchOutcome(run, failure, meter, FakeBilledCost(fake), audioSeconds, wall, lines, latency, contexts.Count > 0 ? contexts.Average() : 0);
    }

    /// <summary>The cost meter's languages and the input's opening time from one <c>/api/status</c> poll; null when the sidecar does not answer (yet).</summary>
    private static async Task<(IReadOnlyList<MeteredLanguage> Meter, DateTimeOffset? InputOpened)?> ReadStatusAsync(HttpClient http, CancellationToken ct)
    {
        try
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync("/api/status", ct));
            var root = status.RootElement;
            var meter = new List<MeteredLanguage>();
            if (root.TryGetProperty("costs", out var costs) && costs.ValueKind == JsonValueKind.Object)
            {
                foreach (var language in costs.GetProperty("languages").EnumerateArray())
                {
                    meter.Add(new MeteredLanguage(
                        language.GetProperty("language").GetString() ?? "?",
                        language.GetProperty("model").GetString(),
                        language.GetProperty("audioInputTokens").GetInt64(),
                        language.GetProperty("cachedInputTokens").GetInt64(),
                        language.GetProperty("textInputTokens").GetInt64(),
                        language.GetProperty("outputTokens").GetInt64(),
                        language.GetProperty("cost").ValueKind == JsonValueKind.Number ? language.GetProperty("cost").GetDecimal() : null));
                }
            }

            DateTimeOffset? opened = root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object
                && input.GetProperty("state").GetString() is "waiting-for-audio" or "receiving"
                ? input.GetProperty("since").GetDateTimeOffset()
                : null;
            return (meter, opened);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes <paramref name="fifo"/> and starts writing <paramref name="wav"/> into it at <paramref name="speed"/> times
    /// real time (python3, as scripts/soak.sh paces), once the sidecar opens it.
    /// </summary>
    private static async Task<Process> StartPacerAsync(string wav, string fifo, double speed, CancellationToken ct)
    {
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { UseShellExecute = false }) ?? throw new InvalidOperationException("mkfifo could not be started."))
        {
            await mkfifo.WaitForExitAsync(ct);
        }

        const string Pace = """
            import sys, time
            rate = 48000 * float(sys.argv[1]); block = 9600; start = time.monotonic(); sent = 0
            src, dst = sys.stdin.buffer, sys.stdout.buffer
            while (data := src.read(block)):
                dst.write(data); dst.flush(); sent += len(data)
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0: time.sleep(ahead)
            """;
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "exec python3 -u -c \"$PACE\" \"$SPEED\" < \"$WAV\" > \"$FIFO\" 2> \"$FIFO.err\"" },
            UseShellExecute = false,
            Environment =
            {
                ["PACE"] = Pace,
                ["SPEED"] = speed.ToString(CultureInfo.InvariantCulture),
                ["WAV"] = wav,
                ["FIFO"] = fifo,
            },
        };
        return Process.Start(start) ?? throw new InvalidOperationException("python3 could not be started.");
    }

    /// <summary>A line about what a fake session saw: its kind, audio, turns, responses and their context sizes.</summary>
    private static string Describe(FakeSession s)
    {
        var contexts = s.ResponseRequests.Select(r => r.Context?.Count ?? r.Conversation.Count).ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{s.Id} {s.SessionType} model={s.Model} target={s.TargetLanguage} appended={s.AppendedBytes / 48000.0:0.0}s ")
            + string.Create(CultureInfo.InvariantCulture, $"turns={s.CommittedAudio.Count} audio={s.CommittedAudio.Sum(a => a.TotalSeconds):0.0}s responses={s.ResponseRequests.Count} ")
            + string.Create(CultureInfo.InvariantCulture, $"context items avg={(contexts.Count > 0 ? contexts.Average() : 0):0.0} max={(contexts.Count > 0 ? contexts.Max() : 0)} usages={s.UsageSent.Count} errors={string.Join(',', s.ErrorsSent)}");
    }

    /// <summary>Every usage the fake sent, priced like the sidecar's meter prices it (the session's model, the default prices).</summary>
    private static decimal FakeBilledCost(FakeRealtimeServer fake)
    {
        var meter = new CostMeter(Options.Create(new PricingOptions()));
        var total = 0m;
        foreach (var session in fake.Sessions)
        {
            var transcription = session.SessionType == FakeSessionType.Transcription;
            var model = transcription ? TranscriptionModel(session.SessionConfig) : session.Model;
            var usage = TokenUsage.None;
            foreach (var sent in session.UsageSent)
            {
                using var json = JsonDocument.Parse(sent);
                usage = usage.Add(transcription ? RealtimeUsage.FromTranscription(json.RootElement) : RealtimeUsage.FromResponse(json.RootElement));
            }

            total += meter.CostOf(model, usage) ?? 0m;
        }

        return total;
    }

    private static string? TranscriptionModel(string sessionConfig)
    {
        using var json = JsonDocument.Parse(sessionConfig);
        return json.RootElement.TryGetProperty("audio", out var audio) && audio.TryGetProperty("input", out var input)
            && input.TryGetProperty("transcription", out var transcription) && transcription.ValueKind == JsonValueKind.Object
            && transcription.TryGetProperty("model", out var model)
            ? model.GetString()
            : null;
    }

    /// <summary>Seconds of audio in a PCM WAV file (its data chunk's size over the byte rate).</summary>
    public static double WavSeconds(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        reader.BaseStream.Seek(12, SeekOrigin.Begin);
        var byteRate = 0;
        while (reader.BaseStream.Position + 8 <= reader.BaseStream.Length)
        {
            var id = new string(reader.ReadChars(4));
            var size = reader.ReadInt32();
            if (id == "fmt ")
            {
                reader.ReadBytes(8);
                byteRate = reader.ReadInt32();
                reader.BaseStream.Seek(size - 12, SeekOrigin.Current);
            }
            else if (id == "data")
            {
                return byteRate > 0 ? (double)size / byteRate : 0;
            }
            else
            {
                reader.BaseStream.Seek(size + (size % 2), SeekOrigin.Current);
            }
        }

        return 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FirstLines(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(3));

    private static string Quote(string argument) => argument.Contains(' ', StringComparison.Ordinal) ? $"'{argument}'" : argument;
}
