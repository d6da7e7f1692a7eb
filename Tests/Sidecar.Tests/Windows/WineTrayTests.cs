using System.Globalization;
using System.Text.Json;
using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>
/// The tray icon of the Windows release under Wine, driven as a streamer would with the mouse and keyboard (xdotool on
/// Wine's Xvfb display, where a bare X server gets Wine's own "Wine System Tray" window): the icon exists, its menu
/// opens with the status lines above the languages, a language turned on from the menu is on in the control API, and
/// Quit ends the process with exit code 0. A screenshot of the open menu goes to artifacts/wine-tray-menu.png.
/// </summary>
// One Windows program under Wine at a time, and none while a PulseAudio test reshapes the daemon Wine captures from:
// in CI runs with the Wine classes side by side, one Wine sidecar hung now and then (cause not found).
[Collection(CaptionSidecar.Tests.Audio.PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Wine")]
public sealed class WineTrayTests : IDisposable
{
    /// <summary>The menu's greyed-out status lines for the test pattern without OBS: "Captions: test pattern", "OBS: off".</summary>
    private const int StatusLines = 2;

    private readonly TestFolder _folder = new("caption-wine-tray-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 300000)]
    public async Task Tray_MenuTurnsALanguageOnAndQuits_ExitCodeZero()
    {
        var ct = TestContext.Current.CancellationToken;
        var launcher = await WineSidecar.RequireAsync(ct);
        var x = new XDisplay(launcher.Environment["DISPLAY"], Peers.RequireExecutable("xdotool"));
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--data-dir", WineSidecar.WindowsPath(_folder.Data)], launcher: launcher);
        // The first start of a new release extracts it (a few seconds; more on a loaded machine).
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(120));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        var pid = sidecar.ProcessId.ToString(CultureInfo.InvariantCulture);

        // The icon's own (hidden) window, then the icon in Wine's system tray: the slot whose menu belongs to this process.
        await Poll.UntilAsync(
            async token => (await x.RunAsync(["search", "--pid", pid, "--name", "^CaptionSidecar tray$"], token)).Length > 0,
            "the tray icon's window exists", ct, timeoutMs: 30000, intervalMs: 200, failIf: sidecar.ExitedWith);
        var slot = await OpenMenuAsync(x, pid, null, sidecar, ct);

        // The first language that is off, found by keyboard as a streamer without a mouse would: Down selects the next
        // item that is not a separator (greyed-out status lines included), Enter clicks it.
        var before = await LanguagesAsync(control, ct);
        var index = before.FindIndex(l => !l.Enabled);
        Assert.True(index >= 0, "every language is on already");
        var target = before[index].Code;
        await x.RunAsync(["key", .. Enumerable.Repeat("Down", StatusLines + index + 1)], ct);
        await ScreenshotAsync(x, ct);
        await x.RunAsync(["key", "Return"], ct);

        var after = await Poll.ForAsync(
            async token => await LanguagesAsync(control, token),
            languages => languages.Single(l => l.Code == target).Enabled,
            $"language {target} on in /api/languages after the menu click",
            ct, timeoutMs: 20000, intervalMs: 100, failIf: sidecar.ExitedWith);
        Assert.Equal(before.Select(l => (l.Code, l.Code == target || l.Enabled)), after.Select(l => (l.Code, l.Enabled)));

        // Quit, the last item: Up from no selection goes to it.
        await OpenMenuAsync(x, pid, slot, sidecar, ct);
        await x.RunAsync(["key", "Up", "Return"], ct);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct));
        Assert.Contains($"Test pattern for {target} started", sidecar.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Right-clicks the tray slots (only <paramref name="knownSlot"/> when given) until a menu of process
    /// <paramref name="pid"/> shows, and returns that slot: other sidecars under the same Wine may have icons there too.
    /// </summary>
    private static async Task<(int X, int Y)> OpenMenuAsync(XDisplay x, string pid, (int X, int Y)? knownSlot, SidecarProcess sidecar, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var slots = knownSlot is { } known ? [known] : await TraySlotsAsync(x, ct);
            foreach (var slot in slots)
            {
                await x.RunAsync(["mousemove", $"{slot.X}", $"{slot.Y}", "click", "3"], ct);
                try
                {
                    await Poll.UntilAsync(
                        async token => (await x.RunAsync(["search", "--onlyvisible", "--pid", pid], token)).Length > 0,
                        "the tray menu opens", ct, timeoutMs: 5000, intervalMs: 100, failIf: sidecar.ExitedWith,
                        onTimeout: message => throw new TimeoutException(message));
                    return slot;
                }
                catch (TimeoutException)
                {
                    // Another program's icon, or an empty slot: close whatever opened and try the next.
                    await x.RunAsync(["key", "Escape"], ct);
                }
            }
        }

        Assert.Fail($"No tray icon of process {pid} opened a menu within 60 s.\n{sidecar.StderrDetails()}");
        return default;
    }

    /// <summary>
    /// The centres of the icon slots of Wine's system tray window (square slots, as high as the window), waiting for
    /// the window: Wine shows it when the first icon is added.
    /// </summary>
    private static async Task<IReadOnlyList<(int X, int Y)>> TraySlotsAsync(XDisplay x, CancellationToken ct)
    {
        var geometry = await Poll.ForAsync(
            async token =>
            {
                var tray = (await x.RunAsync(["search", "--onlyvisible", "--name", "^Wine System Tray$"], token)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                return tray.Length == 0 ? null : await x.RunAsync(["getwindowgeometry", "--shell", tray[0].Trim()], token);
            },
            null, "Wine's system tray window on the display", ct, timeoutMs: 30000, intervalMs: 200);
        var values = geometry.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        var (left, top, width, height) = (values["X"], values["Y"], values["WIDTH"], values["HEIGHT"]);
        return [.. Enumerable.Range(0, Math.Max(1, width / height)).Select(i => (left + (i * height) + (height / 2), top + (height / 2)))];
    }

    private static async Task ScreenshotAsync(XDisplay x, CancellationToken ct)
    {
        var artifacts = Path.Combine(SidecarProcess.RepoRoot, "artifacts");
        Directory.CreateDirectory(artifacts);
        var path = Path.Combine(artifacts, "wine-tray-menu.png");
        var dump = path + ".xwd";
        File.Delete(path);
        var (code, _, stderr) = await Peers.RunAsync("xwd", ["-root", "-display", x.Display, "-out", dump], TimeSpan.FromSeconds(30), ct);
        Assert.True(code == 0 && File.Exists(dump), $"the screenshot failed (xwd, from x11-apps: scripts/wine-headless.sh installs it): {stderr}");
        await File.WriteAllBytesAsync(path, XwdToPng.Convert(await File.ReadAllBytesAsync(dump, ct)), ct);
        File.Delete(dump);
    }

    private static async Task<List<(string Code, bool Enabled)>> LanguagesAsync(SidecarControl control, CancellationToken ct)
    {
        using var languages = JsonDocument.Parse(await control.Http.GetStringAsync("/api/languages", ct));
        return [.. languages.RootElement.EnumerateArray().Select(l => (l.GetProperty("code").GetString()!, l.GetProperty("enabled").GetBoolean()))];
    }

    /// <summary>xdotool on Wine's X display.</summary>
    private sealed record XDisplay(string Display, string Xdotool)
    {
        public async Task<string> RunAsync(IEnumerable<string> args, CancellationToken ct)
        {
            var (code, stdout, stderr) = await Peers.RunAsync("env", [$"DISPLAY={Display}", Xdotool, .. args], TimeSpan.FromSeconds(30), ct);
            // search exits 1 when nothing matches; that is an answer, not a failure.
            Assert.True(code == 0 || (code == 1 && args.First() == "search"), $"xdotool {string.Join(' ', args)} failed ({code}): {stderr}");
            return stdout;
        }
    }
}
