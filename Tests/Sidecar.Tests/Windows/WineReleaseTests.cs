using System.Net;
using System.Text.Json.Nodes;
using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>The Windows release under Wine, as a streamer first meets it: it starts and says what it is.</summary>
// One Windows program under Wine at a time, and none while a PulseAudio test reshapes the daemon Wine captures from:
// in CI runs with the Wine classes side by side, one Wine sidecar hung now and then (cause not found).
[Collection(CaptionSidecar.Tests.Audio.PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Wine")]
public sealed class WineReleaseTests
{
    [Fact]
    public async Task Version_PrintsTheReleaseVersionAndExitsZero()
    {
        var (code, stdout, stderr) = await WineSidecar.RunAsync(["--version"], TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        var expected = typeof(CaptionSidecar.Hosting.SidecarOptions).Assembly.GetName().Version!;
        Assert.StartsWith($"{expected.Major}.{expected.Minor}.{expected.Build}", stdout.Trim(), StringComparison.Ordinal);
        // The version and the short commit a streamer quotes in a bug report (0.12.0+e580eec), nothing else.
        Assert.Matches(@"^\d+\.\d+\.\d+(\+[0-9a-f]{7})?$", stdout.Trim());
    }

    /// <summary>
    /// The release extracts itself into %TEMP%, so the application folder is not the exe's: the defaults file the
    /// archive ships beside CaptionSidecar.exe must still be the one read (here its HTTP port, changed).
    /// </summary>
    [Fact(Timeout = 180000)]
    public async Task Run_ReadsTheAppsettingsBesideTheExe()
    {
        var ct = TestContext.Current.CancellationToken;
        var launcher = await WineSidecar.RequireAsync(ct);
        using var folder = new TestFolder("caption-wine-defaults-");
        var exe = Path.Combine(folder.Path, "CaptionSidecar.exe");
        File.Copy(WineSidecar.ExePath, exe);
        var port = TestHost.FreePort();
        var defaults = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(WineSidecar.ExePath)!, "appsettings.json"), ct))!.AsObject();
        defaults["Http"] = new JsonObject { ["Port"] = port };
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "appsettings.json"), defaults.ToJsonString(), ct);
        var data = "Z:" + folder.Data.Replace('/', '\\');

        await using var sidecar = SidecarProcess.Start(["--engine", "test-pattern", "--no-obs", "--data-dir", data], launcher: launcher with { Arguments = [exe] });
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(90));

        Assert.Contains($"http://localhost:{port}/overlay", sidecar.Stderr, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using (var overlay = await http.GetAsync("/overlay", ct))
        {
            Assert.Equal(HttpStatusCode.OK, overlay.StatusCode);
        }

        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct));
    }
}
