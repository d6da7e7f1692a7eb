using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Real speech for end-to-end tests: espeak-ng speaks each sentence, sox joins them with pauses between them, so a
/// voice detector hears three separate turns.
/// </summary>
internal static class SpeechFixture
{
    public static readonly string[] Sentences =
    [
        "Welcome back to the stream everyone.",
        "Today we are building a caption tool.",
        "Thanks for watching and see you soon.",
    ];

    /// <summary>Writes the three sentences with 1.5 s pauses (and lead-in/out silence) to a WAV in <paramref name="dir"/>.</summary>
    /// <returns>The WAV path (22,050 Hz mono PCM16, espeak-ng's own format).</returns>
    public static async Task<string> SpeakAsync(string dir, CancellationToken cancellationToken)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var parts = new List<string>();
        var silence = Path.Combine(dir, "silence.wav");
        await RunAsync(sox, ["-n", "-r", "22050", "-c", "1", "-b", "16", silence, "trim", "0", "1.5"], cancellationToken);
        parts.Add(silence);
        for (var i = 0; i < Sentences.Length; i++)
        {
            var wav = Path.Combine(dir, $"sentence{i}.wav");
            await RunAsync(espeak, ["-v", "en", "-s", "160", "-w", wav, Sentences[i]], cancellationToken);
            parts.Add(wav);
            parts.Add(silence);
        }

        var output = Path.Combine(dir, "speech.wav");
        await RunAsync(sox, [.. parts, output], cancellationToken);
        return output;
    }

    /// <summary>
    /// Each sentence alone as raw 24 kHz mono s16le, followed by 1.5 s of silence so a voice detector ends the turn:
    /// for tests that feed the sidecar's stdin one turn at a time.
    /// </summary>
    public static async Task<IReadOnlyList<byte[]>> SpeakTurnsAsync(string dir, CancellationToken cancellationToken)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var turns = new List<byte[]>();
        for (var i = 0; i < Sentences.Length; i++)
        {
            var wav = Path.Combine(dir, $"turn{i}.wav");
            var raw = Path.Combine(dir, $"turn{i}.raw");
            await RunAsync(espeak, ["-v", "en", "-s", "160", "-w", wav, Sentences[i]], cancellationToken);
            await RunAsync(sox, [wav, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "24000", "-c", "1", raw, "pad", "0.3", "1.5"], cancellationToken);
            turns.Add(await File.ReadAllBytesAsync(raw, cancellationToken));
        }

        return turns;
    }

    /// <summary>
    /// One sentence followed by <paramref name="pause"/>, <paramref name="count"/> times over, as one 24 kHz mono WAV:
    /// a long stream whose sentences sit at known places on the timeline (sentence n starts at (n - 1) x the unit).
    /// </summary>
    /// <returns>The WAV path and the length of one unit (sentence and pause).</returns>
    public static async Task<(string Wav, TimeSpan Unit)> RepeatAsync(string dir, string sentence, TimeSpan pause, int count, CancellationToken cancellationToken)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var spoken = Path.Combine(dir, "sentence.wav");
        var unit = Path.Combine(dir, "unit.wav");
        var output = Path.Combine(dir, "long.wav");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        await RunAsync(espeak, ["-v", "en", "-s", "160", "-w", spoken, sentence], cancellationToken);
        await RunAsync(sox, [spoken, "-r", "24000", "-c", "1", "-b", "16", unit, "pad", "0", pause.TotalSeconds.ToString(inv)], cancellationToken);
        await RunAsync(sox, [unit, output, "repeat", (count - 1).ToString(inv)], cancellationToken);
        var (code, samples, stderr) = await Peers.RunAsync(sox, ["--i", "-s", unit], TimeSpan.FromSeconds(60), cancellationToken);
        Assert.True(code == 0, $"sox --i failed ({code}): {stderr}");
        return (output, TimeSpan.FromSeconds(long.Parse(samples.Trim(), inv) / 24_000.0));
    }

    /// <summary>
    /// One speaker's track for a conversation: each sentence spoken by <paramref name="voice"/> starting at its time
    /// (or right after the previous one, if that is later), silence between and until <paramref name="totalSeconds"/>.
    /// Several such tracks played at once make speakers who talk in turn and, where their times overlap, at once.
    /// </summary>
    /// <returns>The WAV path (24 kHz mono PCM16) and where each sentence starts and ends on it.</returns>
    public static async Task<(string Wav, IReadOnlyList<(TimeSpan Start, TimeSpan End)> Spans)> SpeakAtAsync(
        string dir, string name, string voice, IReadOnlyList<(double At, string Sentence)> sentences, double totalSeconds, CancellationToken cancellationToken)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var parts = new List<string>();
        var spans = new List<(TimeSpan Start, TimeSpan End)>();
        var cursor = 0.0;
        for (var i = 0; i < sentences.Count; i++)
        {
            var (at, sentence) = sentences[i];
            var spoken = Path.Combine(dir, $"{name}{i}-espeak.wav");
            var part = Path.Combine(dir, $"{name}{i}.wav");
            await RunAsync(espeak, ["-v", voice, "-s", "160", "-w", spoken, sentence], cancellationToken);
            var lead = Math.Max(0, at - cursor);
            await RunAsync(sox, [spoken, "-r", "24000", "-c", "1", "-b", "16", part, "pad", lead.ToString("0.###", inv), "0"], cancellationToken);
            var (code, length, stderr) = await Peers.RunAsync(sox, ["--i", "-D", part], TimeSpan.FromSeconds(60), cancellationToken);
            Assert.True(code == 0, $"sox --i failed ({code}): {stderr}");
            var seconds = double.Parse(length.Trim(), inv);
            spans.Add((TimeSpan.FromSeconds(cursor + lead), TimeSpan.FromSeconds(cursor + seconds)));
            cursor += seconds;
            parts.Add(part);
        }

        var tail = Path.Combine(dir, $"{name}-tail.wav");
        await RunAsync(sox, ["-n", "-r", "24000", "-c", "1", "-b", "16", tail, "trim", "0", Math.Max(0.5, totalSeconds - cursor).ToString("0.###", inv)], cancellationToken);
        parts.Add(tail);
        var output = Path.Combine(dir, $"{name}.wav");
        await RunAsync(sox, [.. parts, output], cancellationToken);
        return (output, spans);
    }

    /// <summary>Converts <paramref name="wav"/> with sox to another rate/channel count (WAV) or to raw s16le (".raw").</summary>
    public static async Task<string> ConvertAsync(string wav, string output, int rate, int channels, CancellationToken cancellationToken)
    {
        var sox = Peers.RequireExecutable("sox");
        string[] target = output.EndsWith(".raw", StringComparison.Ordinal)
            ? ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", rate.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", channels.ToString(System.Globalization.CultureInfo.InvariantCulture), output]
            : ["-r", rate.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", channels.ToString(System.Globalization.CultureInfo.InvariantCulture), "-b", "16", output];
        await RunAsync(sox, [wav, .. target], cancellationToken);
        return output;
    }

    private static async Task RunAsync(string exe, string[] args, CancellationToken cancellationToken)
    {
        var (code, _, stderr) = await Peers.RunAsync(exe, args, TimeSpan.FromSeconds(60), cancellationToken);
        Assert.True(code == 0, $"{Path.GetFileName(exe)} failed ({code}): {stderr}");
    }
}
