using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CaptionSidecar.Control;

/// <summary>Creates <see cref="TrayIconWin32"/> icons.</summary>
[SupportedOSPlatform("windows")]
internal sealed class TrayIconWin32Factory(ILogger logger) : ITrayIconFactory
{
    public ITrayIcon Create(Func<string, Task> onClick) => new TrayIconWin32(onClick, logger);
}

/// <summary>
/// The Windows notify icon, in plain Win32: a hidden top-level window (a message-only window never receives the
/// broadcast <c>TaskbarCreated</c>) with its own message loop on its own STA thread. It only draws the
/// <see cref="TrayMenuModel"/> and hands clicks to the thread pool; <see cref="TrayMenu"/> decides what they do.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class TrayIconWin32 : ITrayIcon
{
    internal const uint WM_NULL = 0x0000, WM_DESTROY = 0x0002, WM_CLOSE = 0x0010, WM_LBUTTONUP = 0x0202, WM_RBUTTONUP = 0x0205, WM_APP = 0x8000;
    internal const uint WM_TRAY_CALLBACK = WM_APP + 1, WM_TRAY_UPDATE = WM_APP + 2, WM_TRAY_COPY = WM_APP + 3;
    internal const uint NIM_ADD = 0, NIM_MODIFY = 1, NIM_DELETE = 2;
    internal const uint NIF_MESSAGE = 0x1, NIF_ICON = 0x2, NIF_TIP = 0x4;
    internal const uint MF_STRING = 0x0, MF_GRAYED = 0x1, MF_CHECKED = 0x8, MF_SEPARATOR = 0x800;
    internal const uint TPM_RIGHTBUTTON = 0x2, TPM_NONOTIFY = 0x80, TPM_RETURNCMD = 0x100;
    internal const uint CF_UNICODETEXT = 13, GMEM_MOVEABLE = 0x2;
    internal const int IDI_APPLICATION = 32512;

    private static int s_classCount;

    private readonly Func<string, Task> _onClick;
    private readonly ILogger _logger;
    // Kept in a field: Windows calls it through a native pointer the GC cannot see.
    private readonly WindowProcedure _windowProcedure;
    private readonly string _className = $"CaptionSidecarTray{Interlocked.Increment(ref s_classCount)}";
    private readonly Lock _gate = new();
    private Thread? _thread;
    private nint _window;
    private bool _disposed;
    private uint _taskbarCreated;
    private volatile TrayMenuModel? _model;
    private string? _pendingCopy;

    public TrayIconWin32(Func<string, Task> onClick, ILogger logger)
    {
        _onClick = onClick;
        _logger = logger;
        _windowProcedure = WindowProc;
    }

    private delegate nint WindowProcedure(nint window, uint message, nint wParam, nint lParam);

    public void Show(TrayMenuModel model)
    {
        _model = model;
        _thread = new Thread(MessageLoop) { IsBackground = true, Name = "Tray icon" };
        _thread.SetApartmentState(ApartmentState.STA);
        _thread.Start();
    }

    public void Update(TrayMenuModel model)
    {
        _model = model;
        Post(WM_TRAY_UPDATE);
    }

    public void CopyToClipboard(string text)
    {
        Volatile.Write(ref _pendingCopy, text);
        Post(WM_TRAY_COPY);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_window != 0)
            {
                PostMessageW(_window, WM_CLOSE, 0, 0);
            }
        }

        // The loop ends at once after WM_CLOSE; the bound only guards against a wedged shell.
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    private void Post(uint message)
    {
        lock (_gate)
        {
            if (_window != 0 && !_disposed)
            {
                PostMessageW(_window, message, 0, 0);
            }
        }
    }

    private void MessageLoop()
    {
        var instance = GetModuleHandleW(null);
        fixed (char* className = _className)
        {
            var windowClass = new WNDCLASSEXW
            {
                cbSize = (uint)sizeof(WNDCLASSEXW),
                lpfnWndProc = Marshal.GetFunctionPointerForDelegate(_windowProcedure),
                hInstance = instance,
                lpszClassName = (nint)className,
            };
            if (RegisterClassExW(&windowClass) == 0)
            {
                LogWin32Failed(_logger, "RegisterClassEx", Marshal.GetLastPInvokeError());
                return;
            }

            _taskbarCreated = RegisterWindowMessageW("TaskbarCreated");
            var window = CreateWindowExW(0, className, "CaptionSidecar tray", 0, 0, 0, 0, 0, 0, 0, instance, 0);
            if (window == 0)
            {
                LogWin32Failed(_logger, "CreateWindowEx", Marshal.GetLastPInvokeError());
                UnregisterClassW(className, instance);
                return;
            }

            lock (_gate)
            {
                _window = window;
                if (_disposed)
                {
                    PostMessageW(window, WM_CLOSE, 0, 0);
                }
            }

            AddIcon(window);
            MSG message;
            while (GetMessageW(&message, 0, 0, 0) > 0)
            {
                TranslateMessage(&message);
                DispatchMessageW(&message);
            }

            lock (_gate)
            {
                _window = 0;
            }

            UnregisterClassW(className, instance);
        }
    }

    private nint WindowProc(nint window, uint message, nint wParam, nint lParam)
    {
        // An exception must not cross into native code: it would end the process.
        try
        {
            switch (message)
            {
                case WM_TRAY_CALLBACK when (uint)lParam is WM_RBUTTONUP or WM_LBUTTONUP:
                    ShowMenu(window);
                    return 0;
                case WM_TRAY_UPDATE:
                    NotifyIcon(window, NIM_MODIFY);
                    return 0;
                case WM_TRAY_COPY when Interlocked.Exchange(ref _pendingCopy, null) is { } text:
                    SetClipboardText(window, text);
                    return 0;
                case WM_CLOSE:
                    DestroyWindow(window);
                    return 0;
                case WM_DESTROY:
                    NotifyIcon(window, NIM_DELETE);
                    PostQuitMessage(0);
                    return 0;
            }

            if (message == _taskbarCreated && _taskbarCreated != 0)
            {
                // Explorer restarted and forgot every notify icon.
                AddIcon(window);
                return 0;
            }
        }
        catch (Exception ex)
        {
            LogWindowMessageFailed(_logger, message, ex);
        }

        return DefWindowProcW(window, message, wParam, lParam);
    }

    private void AddIcon(nint window)
    {
        if (!NotifyIcon(window, NIM_ADD))
        {
            LogWin32Failed(_logger, "Shell_NotifyIcon(NIM_ADD)", Marshal.GetLastPInvokeError());
        }
    }

    private bool NotifyIcon(nint window, uint action)
    {
        var data = new NOTIFYICONDATAW
        {
            cbSize = (uint)sizeof(NOTIFYICONDATAW),
            hWnd = window,
            uID = 1,
            uFlags = NIF_MESSAGE | NIF_ICON | NIF_TIP,
            uCallbackMessage = WM_TRAY_CALLBACK,
            hIcon = LoadIconW(0, IDI_APPLICATION),
        };
        var tip = (_model?.ToolTip ?? "CaptionSidecar").AsSpan();
        tip[..Math.Min(tip.Length, TrayMenu.MaxToolTipLength)].CopyTo(new Span<char>(data.szTip, 128));
        return Shell_NotifyIconW(action, &data);
    }

    private void ShowMenu(nint window)
    {
        var model = _model;
        if (model is null)
        {
            return;
        }

        var menu = CreatePopupMenu();
        try
        {
            for (var i = 0; i < model.Items.Count; i++)
            {
                var item = model.Items[i];
                var flags = item.Kind == TrayMenuItemKind.Separator
                    ? MF_SEPARATOR
                    : MF_STRING | (item.Checked ? MF_CHECKED : 0) | (item.Enabled ? 0 : MF_GRAYED);
                // Command ids are index + 1: TrackPopupMenuEx returns 0 when nothing was chosen.
                AppendMenuW(menu, flags, (nuint)(i + 1), item.Kind == TrayMenuItemKind.Separator ? null : item.Text.Replace("&", "&&", StringComparison.Ordinal));
            }

            POINT cursor;
            GetCursorPos(&cursor);
            // Without the foreground the menu would not close when the user clicks elsewhere.
            SetForegroundWindow(window);
            var chosen = TrackPopupMenuEx(menu, TPM_RIGHTBUTTON | TPM_NONOTIFY | TPM_RETURNCMD, cursor.X, cursor.Y, window, 0);
            PostMessageW(window, WM_NULL, 0, 0);
            if (chosen > 0 && chosen <= model.Items.Count)
            {
                var id = model.Items[chosen - 1].Id;
                // Never on this thread: the action may wait on the pipeline, and the message loop must keep turning.
                // TrayClick.RunAsync never faults (it logs the action's failure), so nothing goes unobserved.
                _ = TrayClick.RunAsync(_onClick, id, _logger);
            }
        }
        finally
        {
            DestroyMenu(menu);
        }
    }

    private void SetClipboardText(nint window, string text)
    {
        if (!OpenClipboard(window))
        {
            LogWin32Failed(_logger, "OpenClipboard", Marshal.GetLastPInvokeError());
            return;
        }

        try
        {
            EmptyClipboard();
            var bytes = (nuint)((text.Length + 1) * sizeof(char));
            var memory = GlobalAlloc(GMEM_MOVEABLE, bytes);
            if (memory == 0)
            {
                LogWin32Failed(_logger, "GlobalAlloc", Marshal.GetLastPInvokeError());
                return;
            }

            var target = (char*)GlobalLock(memory);
            if (target is null)
            {
                LogWin32Failed(_logger, "GlobalLock", Marshal.GetLastPInvokeError());
                GlobalFree(memory);
                return;
            }

            text.AsSpan().CopyTo(new Span<char>(target, text.Length));
            target[text.Length] = '\0';
            GlobalUnlock(memory);
            // On success the clipboard owns the memory; on failure it is still ours to free.
            if (SetClipboardData(CF_UNICODETEXT, memory) == 0)
            {
                LogWin32Failed(_logger, "SetClipboardData", Marshal.GetLastPInvokeError());
                GlobalFree(memory);
            }
        }
        finally
        {
            CloseClipboard();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tray icon: {Function} failed with Win32 error {Error}")]
    private static partial void LogWin32Failed(ILogger logger, string function, int error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tray icon: handling window message {Message} failed")]
    private static partial void LogWindowMessageFailed(ILogger logger, uint message, Exception exception);

    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    internal struct WNDCLASSEXW
    {
        public uint cbSize, style;
        public nint lpfnWndProc;
        public int cbClsExtra, cbWndExtra;
        public nint hInstance, hIcon, hCursor, hbrBackground, lpszMenuName, lpszClassName, hIconSm;
    }

    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    internal struct NOTIFYICONDATAW
    {
        public uint cbSize;
        public nint hWnd;
        public uint uID, uFlags, uCallbackMessage;
        public nint hIcon;
        public fixed char szTip[128];
        public uint dwState, dwStateMask;
        public fixed char szInfo[256];
        public uint uTimeoutOrVersion;
        public fixed char szInfoTitle[64];
        public uint dwInfoFlags;
        public Guid guidItem;
        public nint hBalloonIcon;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct POINT
    {
        public int X, Y;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MSG
    {
        public nint hwnd;
        public uint message;
        public nint wParam, lParam;
        public uint time;
        public POINT pt;
        public uint lPrivate;
    }

    [LibraryImport("user32.dll", SetLastError = true)]
    private static partial ushort RegisterClassExW(WNDCLASSEXW* windowClass);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool UnregisterClassW(char* className, nint instance);

    [LibraryImport("user32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint CreateWindowExW(uint exStyle, char* className, string windowName, uint style, int x, int y, int width, int height, nint parent, nint menu, nint instance, nint param);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool DestroyWindow(nint window);

    [LibraryImport("user32.dll")]
    private static partial nint DefWindowProcW(nint window, uint message, nint wParam, nint lParam);

    [LibraryImport("user32.dll", StringMarshalling = StringMarshalling.Utf16)]
    private static partial uint RegisterWindowMessageW(string name);

    [LibraryImport("user32.dll")]
    private static partial int GetMessageW(MSG* message, nint window, uint filterMin, uint filterMax);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool TranslateMessage(MSG* message);

    [LibraryImport("user32.dll")]
    private static partial nint DispatchMessageW(MSG* message);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool PostMessageW(nint window, uint message, nint wParam, nint lParam);

    [LibraryImport("user32.dll")]
    private static partial void PostQuitMessage(int exitCode);

    [LibraryImport("user32.dll")]
    private static partial nint CreatePopupMenu();

    [LibraryImport("user32.dll", StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool AppendMenuW(nint menu, uint flags, nuint id, string? text);

    [LibraryImport("user32.dll")]
    private static partial int TrackPopupMenuEx(nint menu, uint flags, int x, int y, nint window, nint parameters);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool DestroyMenu(nint menu);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetForegroundWindow(nint window);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetCursorPos(POINT* point);

    [LibraryImport("user32.dll")]
    private static partial nint LoadIconW(nint instance, nint iconName);

    [LibraryImport("user32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool OpenClipboard(nint owner);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool EmptyClipboard();

    [LibraryImport("user32.dll", SetLastError = true)]
    private static partial nint SetClipboardData(uint format, nint memory);

    [LibraryImport("user32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseClipboard();

    [LibraryImport("kernel32.dll", SetLastError = true)]
    private static partial nint GlobalAlloc(uint flags, nuint bytes);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    private static partial nint GlobalLock(nint memory);

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GlobalUnlock(nint memory);

    [LibraryImport("kernel32.dll")]
    private static partial nint GlobalFree(nint memory);

    [LibraryImport("kernel32.dll", StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint GetModuleHandleW(string? moduleName);

    [LibraryImport("shell32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool Shell_NotifyIconW(uint action, NOTIFYICONDATAW* data);
}

/// <summary>Runs a tray menu item's action off the window thread (outside the icon's unsafe code, so it can await).</summary>
internal static partial class TrayClick
{
    /// <summary>Runs <paramref name="action"/> for <paramref name="id"/> on the thread pool; logs its failure instead of throwing.</summary>
    public static async Task RunAsync(Func<string, Task> action, string id, ILogger logger)
    {
        try
        {
            await Task.Run(() => action(id));
        }
        catch (Exception ex)
        {
            LogFailed(logger, id, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tray icon: the menu item {Item} failed")]
    private static partial void LogFailed(ILogger logger, string item, Exception exception);
}
