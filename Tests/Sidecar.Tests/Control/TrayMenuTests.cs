using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CaptionSidecar.Control;
using CaptionSidecar.Hosting;
using CaptionSidecar.Overlay;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Control;

public sealed class TrayMenuTests : IDisposable
{
    private readonly string _tokenFolder = Path.Combine(Path.GetTempPath(), "tray-tests-" + Guid.NewGuid().ToString("N"));
    private static readonly Uri OverlayUrl = new("http://localhost:4470/overlay");
    private static readonly Uri ControlUrl = new("http://localhost:4470/control?token=secret-token");

    private static FakeControlSurface TwoLanguages() =>
        new(new LanguageState("en", "en (spoken)", true), new LanguageState("es", "es", false));

    [Fact]
    public void Build_TwoLanguages_OneCheckedItemPerLanguageThenActionsInOrder()
    {
        var menu = new TrayMenu(TwoLanguages(), new FakeShellActions(), OverlayUrl, ControlUrl);

        var items = menu.Build().Items;

        Assert.Equal(
            [TrayMenuItemKind.Status, TrayMenuItemKind.Status, TrayMenuItemKind.Separator,
             TrayMenuItemKind.Language, TrayMenuItemKind.Language, TrayMenuItemKind.Separator, TrayMenuItemKind.OpenControlPage,
             TrayMenuItemKind.CopyOverlayUrl, TrayMenuItemKind.ClearCaptions, TrayMenuItemKind.Separator, TrayMenuItemKind.Quit],
            items.Select(i => i.Kind));
        Assert.Equal(new TrayMenuItem("language:en", "en (spoken)", Checked: true, Enabled: true, TrayMenuItemKind.Language), items[3]);
        Assert.Equal(new TrayMenuItem("language:es", "es", Checked: false, Enabled: true, TrayMenuItemKind.Language), items[4]);
        Assert.Equal(["Open control page", "Copy overlay URL", "Clear captions", "Quit"], items.Where(i => i.Kind is not TrayMenuItemKind.Language and not TrayMenuItemKind.Separator and not TrayMenuItemKind.Status).Select(i => i.Text));
        Assert.Equal(items.Count, items.Select(i => i.Id).Distinct().Count());
    }

    [Fact]
    public void Build_NoLanguages_ShowsADisabledPlaceholder()
    {
        var menu = new TrayMenu(new FakeControlSurface(), new FakeShellActions(), OverlayUrl, ControlUrl);

        var first = menu.Build().Items.Single(i => i.Kind == TrayMenuItemKind.Language);

        Assert.False(first.Enabled);
        Assert.False(first.Checked);
        Assert.Equal("No caption languages", first.Text);
    }

    [Theory]
    [InlineData("language:en", "en", false)]
    [InlineData("language:es", "es", true)]
    public async Task ClickAsync_Language_SetsTheInvertedState(string itemId, string code, bool expected)
    {
        var surface = TwoLanguages();
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        await menu.ClickAsync(itemId, TestContext.Current.CancellationToken);

        Assert.Equal([(code, expected)], surface.Toggles);
    }

    [Fact]
    public async Task ClickAsync_LanguageTwice_RebuiltModelFollowsEachToggle()
    {
        var surface = TwoLanguages();
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        await menu.ClickAsync("language:es", TestContext.Current.CancellationToken);
        var afterFirst = menu.Build();
        await menu.ClickAsync("language:es", TestContext.Current.CancellationToken);
        var afterSecond = menu.Build();

        Assert.True(afterFirst.Items.Single(i => i.Id == "language:es").Checked);
        Assert.Contains("es on", afterFirst.ToolTip, StringComparison.Ordinal);
        Assert.False(afterSecond.Items.Single(i => i.Id == "language:es").Checked);
        Assert.Equal([("es", true), ("es", false)], surface.Toggles);
    }

    [Fact]
    public async Task ClickAsync_ShellItems_CallTheRightActionWithTheRightUrl()
    {
        var surface = TwoLanguages();
        var shell = new FakeShellActions();
        var menu = new TrayMenu(surface, shell, OverlayUrl, ControlUrl);
        var cancellation = TestContext.Current.CancellationToken;

        await menu.ClickAsync(TrayMenu.OpenControlPageId, cancellation);
        await menu.ClickAsync(TrayMenu.CopyOverlayUrlId, cancellation);
        await menu.ClickAsync(TrayMenu.ClearCaptionsId, cancellation);

        Assert.Equal([ControlUrl], shell.Opened);
        Assert.Equal(["http://localhost:4470/overlay"], shell.Copied);
        Assert.Equal(1, surface.Clears);
        Assert.Equal(0, shell.Quits);
        Assert.Empty(surface.Toggles);

        await menu.ClickAsync(TrayMenu.QuitId, cancellation);

        Assert.Equal(1, shell.Quits);
    }

    [Theory]
    [InlineData("no-such-item")]
    [InlineData("language:fr")]
    public async Task ClickAsync_UnknownItemOrLanguage_ThrowsNamingIt(string itemId)
    {
        var surface = TwoLanguages();
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => menu.ClickAsync(itemId, TestContext.Current.CancellationToken));

        Assert.Contains(itemId.Replace("language:", "", StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
        Assert.Empty(surface.Toggles);
    }

    [Fact]
    public void Build_ToolTip_SummarisesLanguagesObsAndErrors()
    {
        var surface = TwoLanguages();
        surface.ObsState = "reconnecting";
        surface.Errors = ["en: socket closed"];
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        Assert.Equal("CaptionSidecar: en on, es off; OBS reconnecting; 1 error", menu.Build().ToolTip);
    }

    [Fact]
    public void Build_ManyLanguages_ToolTipIsCutTo127Characters()
    {
        var languages = Enumerable.Range(0, 40).Select(i => new LanguageState($"l{i:D2}", $"Language {i}", i % 2 == 0)).ToArray();
        var menu = new TrayMenu(new FakeControlSurface(languages), new FakeShellActions(), OverlayUrl, ControlUrl);

        var tip = menu.Build().ToolTip;

        Assert.Equal(TrayMenu.MaxToolTipLength, tip.Length);
        Assert.StartsWith("CaptionSidecar: l00 on, l01 off", tip, StringComparison.Ordinal);
        Assert.EndsWith("…", tip, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task StartAsync_NotWindows_CreatesNoIconAndStopsCleanly()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "This checks the behaviour off Windows.");
        var factory = new FakeTrayIconFactory();
        using var lifetime = new FakeLifetime();
        using var service = NewService(TwoLanguages(), lifetime, new FakeTimeProvider(), factory);

        await service.StartAsync(TestContext.Current.CancellationToken);
        lifetime.Start();
        await service.StopAsync(TestContext.Current.CancellationToken);

        Assert.Empty(factory.Created);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_StateChangesOrClick_IconIsUpdatedAndDisposedAtStop()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var surface = TwoLanguages();
        var time = new FakeTimeProvider();
        var factory = new FakeTrayIconFactory();
        using var lifetime = new FakeLifetime();
        using var service = NewService(surface, lifetime, time, factory);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

        var run = service.RunAsync(factory, OverlayUrl, ControlUrl, stop.Token);
        var icon = Assert.Single(factory.Created);
        Assert.Contains("es off", icon.Shown!.ToolTip, StringComparison.Ordinal);
        Assert.Contains(icon.Shown.Items, i => i.Kind == TrayMenuItemKind.OpenSettingsFolder); // the data folder is known

        // A change made elsewhere (the control page) shows at the next refresh.
        await surface.SetLanguageEnabledAsync("es", true, cancellation);
        time.Advance(TrayService.RefreshInterval);
        var refreshed = await icon.Updates.ReadAsync(cancellation);
        Assert.True(refreshed.Items.Single(i => i.Id == "language:es").Checked);

        // A click through the icon toggles the language and updates the icon at once.
        await icon.ClickAsync("language:en");
        var clicked = await icon.Updates.ReadAsync(cancellation);
        Assert.False(clicked.Items.Single(i => i.Id == "language:en").Checked);
        Assert.Equal(("en", false), surface.Toggles.Last());

        // Quit goes to the host's lifetime.
        await icon.ClickAsync(TrayMenu.QuitId);
        Assert.Equal(1, lifetime.StopRequests);

        await stop.CancelAsync();
        await run;
        Assert.True(icon.Disposed);
    }

    [Fact]
    public void Win32Structs_MatchTheDocumentedWindowsSizesAndOffsets()
    {
        var x64 = IntPtr.Size == 8;
#pragma warning disable CA1416 // Layout only: the structs are measured, no Windows API is called.
        Assert.Equal(x64 ? 976 : 956, Marshal.SizeOf<TrayIconWin32.NOTIFYICONDATAW>());
        Assert.Equal(Marshal.SizeOf<TrayIconWin32.NOTIFYICONDATAW>(), Unsafe.SizeOf<TrayIconWin32.NOTIFYICONDATAW>());
        Assert.Equal(x64 ? 40 : 24, (int)Marshal.OffsetOf<TrayIconWin32.NOTIFYICONDATAW>(nameof(TrayIconWin32.NOTIFYICONDATAW.szTip)));
        Assert.Equal(x64 ? 968 : 952, (int)Marshal.OffsetOf<TrayIconWin32.NOTIFYICONDATAW>(nameof(TrayIconWin32.NOTIFYICONDATAW.hBalloonIcon)));
        Assert.Equal(x64 ? 80 : 48, Unsafe.SizeOf<TrayIconWin32.WNDCLASSEXW>());
        Assert.Equal(x64 ? 48 : 28, Unsafe.SizeOf<TrayIconWin32.MSG>());
        Assert.Equal(8, Unsafe.SizeOf<TrayIconWin32.POINT>());
#pragma warning restore CA1416
    }

    [Fact]
    public void Win32Constants_MatchTheWindowsHeaders()
    {
#pragma warning disable CA1416 // Constants only, compared with winuser.h, shellapi.h and winbase.h.
        Assert.Equal(
            [0x0002u, 0x0010u, 0x0202u, 0x0205u, 0x8001u, 0u, 1u, 2u, 0x1u, 0x2u, 0x4u, 0x1u, 0x8u, 0x800u, 0x2u, 0x80u, 0x100u, 13u, 0x2u],
            [TrayIconWin32.WM_DESTROY, TrayIconWin32.WM_CLOSE, TrayIconWin32.WM_LBUTTONUP, TrayIconWin32.WM_RBUTTONUP, TrayIconWin32.WM_TRAY_CALLBACK,
             TrayIconWin32.NIM_ADD, TrayIconWin32.NIM_MODIFY, TrayIconWin32.NIM_DELETE, TrayIconWin32.NIF_MESSAGE, TrayIconWin32.NIF_ICON, TrayIconWin32.NIF_TIP,
             TrayIconWin32.MF_GRAYED, TrayIconWin32.MF_CHECKED, TrayIconWin32.MF_SEPARATOR, TrayIconWin32.TPM_RIGHTBUTTON, TrayIconWin32.TPM_NONOTIFY,
             TrayIconWin32.TPM_RETURNCMD, TrayIconWin32.CF_UNICODETEXT, TrayIconWin32.GMEM_MOVEABLE]);
        Assert.Equal(32512, TrayIconWin32.IDI_APPLICATION);
#pragma warning restore CA1416
    }

    public void Dispose()
    {
        if (Directory.Exists(_tokenFolder))
        {
            Directory.Delete(_tokenFolder, recursive: true);
        }
    }

    private TrayService NewService(FakeControlSurface surface, FakeLifetime lifetime, TimeProvider time, FakeTrayIconFactory factory) =>
        new(surface, lifetime, new FakeServer("http://127.0.0.1:4470"), ControlToken.LoadOrCreate(_tokenFolder), new DataFolders(_tokenFolder), time, NullLogger<TrayService>.Instance, factory);
}
