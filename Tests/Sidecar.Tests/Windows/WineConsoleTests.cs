using CaptionSidecar.Tests.EndToEnd;

namespace CaptionSidecar.Tests.Windows;

/// <summary>The Windows release's console under Wine: captions in any script, and a failed start that does not wait.</summary>
// One Windows program under Wine at a time, and none while a PulseAudio test reshapes the daemon Wine captures from:
// in CI runs with the Wine classes side by side, one Wine sidecar hung now and then (cause not found).
[Collection(CaptionSidecar.Tests.Audio.PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Wine")]
public sealed class WineConsoleTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-wine-console-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 300000)]
    public async Task TestPattern_SpanishAndJapaneseCaptions_PrintAsUtf8()
    {
        var ct = TestContext.Current.CancellationToken;
        var launcher = await WineSidecar.RequireAsync(ct);
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--languages", "es,ja", "--data-dir", WineSidecar.WindowsPath(_folder.Data)],
            launcher: launcher);

        await sidecar.WaitForStdoutAsync("これは字幕のサンプルです。", TimeSpan.FromSeconds(120));
        await sidecar.WaitForStdoutAsync("Este es un subtítulo de ejemplo", TimeSpan.FromSeconds(30));
        sidecar.Interrupt();

        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct));
        Assert.DoesNotContain("?", string.Concat(sidecar.Stdout.Split('\n').Where(l => l.StartsWith("[ja", StringComparison.Ordinal)).Select(l => l.Split("] ", 2)[1])), StringComparison.Ordinal);
    }

    [Fact(Timeout = 300000)]
    public async Task InvalidSettingsFile_ExitsWithCode2NamingIt_WithoutWaitingForEnter()
    {
        var ct = TestContext.Current.CancellationToken;
        var launcher = await WineSidecar.RequireAsync(ct);
        Directory.CreateDirectory(_folder.Data);
        await File.WriteAllTextAsync(Path.Combine(_folder.Data, "settings.json"), "{\n  \"Audio\": { \"Input\": \"default\" \n  \"Http\": {}\n}\n", ct);
        await using var sidecar = SidecarProcess.Start(["--engine", "test-pattern", "--data-dir", WineSidecar.WindowsPath(_folder.Data)], launcher: launcher);

        Assert.Equal(2, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct));
        Assert.Contains("settings.json' is not valid JSON at line 3", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Press Enter", sidecar.Stderr, StringComparison.Ordinal);
    }
}
