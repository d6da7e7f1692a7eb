using System.Globalization;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar process against a fake Realtime server that sends hostile text (issue 10, A1, A3, A7): a flood of
/// deltas for items never committed, 5 MB texts, text for items never committed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HostileTextEndToEndTests : IAsyncDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(150);
    private readonly TestFolder _folder = new("caption-hostile-");
    private FakeRealtimeServer? _server;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _folder.Dispose();
    }

    [Fact(Timeout = 240000)]
    public async Task Run_FloodOfDeltasForItemsNeverCommitted_EveryRealTurnCaptionedInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        const int Sentences = 10;
        var numbered = Enumerable.Range(1, Sentences).Select(n => $"Sentence {n}.").ToArray();
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(numbered), HostileText = HostileTextMode.DeltaFlood }, ct);
        var (wav, _) = await SpeechFixture.RepeatAsync(_folder.Path, "This is one sentence of a long stream.", TimeSpan.FromSeconds(1.5), Sentences, ct);

        // Paced (real time): the flood goes on for the whole stream, between and during the real turns.
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{wav}", "--exit-at-end"));
        var peak = await PeakMemoryUntilExitAsync(sidecar, ct);
        var exit = await sidecar.WaitForExitAsync(RunTimeout, ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        var srt = File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt")));
        Assert.Equal(string.Join(' ', numbered), SrtFile.JoinedText(SrtFile.Parse(srt)));
        Assert.DoesNotContain("flood", srt, StringComparison.Ordinal);
        Assert.DoesNotContain("flood", sidecar.Stdout, StringComparison.Ordinal);

        // Dropped with one log line per reason (too many held, too old), not one per item.
        var dropLines = sidecar.Stderr.Split('\n').Where(l => l.Contains("never committed dropped", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(dropLines);
        Assert.True(dropLines.Count(l => l.Contains("(too many held)", StringComparison.Ordinal)) <= 1, string.Join('\n', dropLines));
        Assert.True(dropLines.Count(l => l.Contains("(no commit came)", StringComparison.Ordinal)) <= 1, string.Join('\n', dropLines));
        Assert.True(peak < 300L * 1024 * 1024, $"peak memory {peak / (1024 * 1024)} MB");
        AssertCueStartsNeverDecrease(_folder.Transcripts);
    }

    [Fact(Timeout = 240000)]
    public async Task Run_HugeDeltaAndCompletedPerTurn_TextCutMemoryAndFilesStaySmall()
    {
        var ct = TestContext.Current.CancellationToken;
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences), HostileText = HostileTextMode.HugeText }, ct);
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{wav}", "--no-pacing", "--exit-at-end"));
        var peak = await PeakMemoryUntilExitAsync(sidecar, ct);
        var exit = await sidecar.WaitForExitAsync(RunTimeout, ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        foreach (var file in Directory.GetFiles(_folder.Transcripts))
        {
            Assert.InRange(new FileInfo(file).Length, 1, 100 * 1024);
        }

        Assert.InRange(sidecar.Stdout.Length, 1, 100 * 1024);
        var srt = File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt")));
        Assert.All(SpeechFixture.Sentences, s => Assert.Contains(s, SrtFile.JoinedText(SrtFile.Parse(srt)), StringComparison.Ordinal));
        Assert.Contains("over-long", sidecar.Stderr, StringComparison.Ordinal);
        Assert.True(peak < 300L * 1024 * 1024, $"peak memory {peak / (1024 * 1024)} MB");
        AssertCueStartsNeverDecrease(_folder.Transcripts);
    }

    [Fact(Timeout = 240000)]
    public async Task Run_TextForItemsNeverCommitted_DroppedAndCuesNeverGoBackInTime()
    {
        var ct = TestContext.Current.CancellationToken;
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences), HostileText = HostileTextMode.UnknownItems }, ct);
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{wav}", "--exit-at-end"));
        var exit = await sidecar.WaitForExitAsync(RunTimeout, ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        var srt = File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt")));
        Assert.Equal(string.Join(' ', SpeechFixture.Sentences), SrtFile.JoinedText(SrtFile.Parse(srt)));
        foreach (var file in Directory.GetFiles(_folder.Transcripts))
        {
            Assert.DoesNotContain("Ghost", File.ReadAllText(file), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Ghost", sidecar.Stdout, StringComparison.Ordinal);
        Assert.Contains("never committed dropped", sidecar.Stderr, StringComparison.Ordinal);
        AssertCueStartsNeverDecrease(_folder.Transcripts);
    }

    /// <summary>The invariant of every transcript: in each SRT and VTT file, cue start times never decrease.</summary>
    internal static void AssertCueStartsNeverDecrease(string folder)
    {
        foreach (var file in Directory.GetFiles(folder).Where(f => f.EndsWith(".srt", StringComparison.Ordinal) || f.EndsWith(".vtt", StringComparison.Ordinal)))
        {
            var starts = File.ReadAllLines(file)
                .Where(l => l.Contains(" --> ", StringComparison.Ordinal))
                .Select(l => TimeSpan.ParseExact(l[..l.IndexOf(' ', StringComparison.Ordinal)].Replace(',', '.'), @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture))
                .ToList();
            Assert.NotEmpty(starts);
            for (var i = 1; i < starts.Count; i++)
            {
                Assert.True(starts[i] >= starts[i - 1], $"{Path.GetFileName(file)}: cue {i + 1} starts at {starts[i]}, before cue {i} at {starts[i - 1]}");
            }
        }
    }

    /// <summary>
    /// The process's peak resident memory (VmHWM), read once it has exited or as late as possible before: samples
    /// /proc while it runs because the kernel forgets it at exit. A measurement, not a synchronisation.
    /// </summary>
    private static async Task<long> PeakMemoryUntilExitAsync(SidecarProcess sidecar, CancellationToken cancellationToken)
    {
        long peak = 0;
        var status = $"/proc/{sidecar.ProcessId}/status";
        await Poll.UntilAsync(
            async probe =>
            {
                if (sidecar.HasExited)
                {
                    return true;
                }

                try
                {
                    var line = (await File.ReadAllLinesAsync(status, probe)).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                    if (line is not null)
                    {
                        peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024);
                    }
                }
                catch (IOException)
                {
                    // Exited between the check and the read.
                }

                return false;
            },
            "the sidecar exited",
            cancellationToken,
            timeoutMs: (int)RunTimeout.TotalMilliseconds,
            intervalMs: 200,
            details: () => $"peak memory so far {peak / (1024 * 1024)} MB\n{sidecar.StderrDetails()}");

        return peak;
    }
}
