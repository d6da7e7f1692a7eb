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
