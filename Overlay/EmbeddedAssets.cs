namespace CaptionSidecar.Overlay;

/// <summary>The overlay and control pages, compiled into this assembly (no CDN, no files on disk).</summary>
internal static class EmbeddedAssets
{
    private const string Prefix = "CaptionSidecar.Overlay.wwwroot.";

    /// <summary>Reads one file of <c>wwwroot/</c> by name.</summary>
    public static byte[] Read(string fileName)
    {
        using var stream = typeof(EmbeddedAssets).Assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new InvalidOperationException($"Embedded asset '{fileName}' is missing from {typeof(EmbeddedAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public static string ContentType(string fileName) => Path.GetExtension(fileName) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    };
}
