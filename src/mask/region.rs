/// A rectangle of mask pixels: columns `x0..x1` and rows `y0..y1` (ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DirtyRect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl DirtyRect {
    pub fn new(x0: u32, y0: u32, x1: u32, y1: u32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// Clips the half-open box `x0..x1, y0..y1` to a `width` x `height` raster; `None` when
    /// nothing is left.
    pub fn clip(x0: i64, y0: i64, x1: i64, y1: i64, width: u32, height: u32) -> Option<Self> {
        let cx0 = x0.clamp(0, width as i64);
        let cy0 = y0.clamp(0, height as i64);
        let cx1 = x1.clamp(0, width as i64);
        let cy1 = y1.clamp(0, height as i64);
        (cx0 < cx1 && cy0 < cy1).then(|| Self::new(cx0 as u32, cy0 as u32, cx1 as u32, cy1 as u32))
    }

    /// The pixels within `reach` of the segment from `a` to `b` (its box, widened by `reach`
    /// and a pixel), clipped to a `width` x `height` raster.
    pub fn around_segment(
        a: (f32, f32),
        b: (f32, f32),
        reach: f32,
        width: u32,
        height: u32,
    ) -> Option<Self> {
        Self::clip(
            (a.0.min(b.0) - reach).floor() as i64,
            (a.1.min(b.1) - reach).floor() as i64,
            (a.0.max(b.0) + reach).ceil() as i64 + 1,
            (a.1.max(b.1) + reach).ceil() as i64 + 1,
            width,
            height,
        )
    }

    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }

    pub fn area(&self) -> usize {
        self.width() as usize * self.height() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    /// The smallest rectangle holding both.
    pub fn union(self, other: Self) -> Self {
        if self.is_empty() {
            return other;
        }
        if other.is_empty() {
            return self;
        }
        Self::new(
            self.x0.min(other.x0),
            self.y0.min(other.y0),
            self.x1.max(other.x1),
            self.y1.max(other.y1),
        )
    }

    /// Union of two optional rectangles.
    pub fn merge(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }
}
