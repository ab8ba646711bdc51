//! [`InlineVec`]: a short list that lives on the stack.

use std::fmt;

/// Up to `N` `T`s without touching the heap, more on it.
///
/// A `SmallVec` would do, but it is invariant in its item type, and the call plumbing relies on
/// shortening the lifetimes of the borrowed slices it holds; arrays and `Vec`s are covariant.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct InlineVec<T: Copy, const N: usize = 8> {
    inline: [T; N],
    len: usize,
    heap: Vec<T>,
}

impl<T: Copy, const N: usize> InlineVec<T, N> {
    /// An empty list; `fill` only initialises unused inline slots.
    pub(crate) fn new_with(fill: T) -> Self {
        InlineVec {
            inline: [fill; N],
            len: 0,
            heap: Vec::new(),
        }
    }

    /// A list of `n` copies of `value`.
    pub(crate) fn filled(value: T, n: usize) -> Self {
        let mut v = Self::new_with(value);
        for _ in 0..n {
            v.push(value);
        }
        v
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if self.len < self.inline.len() {
            self.inline[self.len] = item;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(item);
        }
        self.len += 1;
    }
}

impl<const N: usize> InlineVec<&[u8], N> {
    #[inline]
    pub(crate) fn new() -> Self {
        Self::new_with(&[])
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for InlineVec<T, N> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

impl<T: Copy, const N: usize> std::ops::DerefMut for InlineVec<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        if self.heap.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.heap
        }
    }
}

impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for InlineVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::InlineVec;

    #[test]
    fn spills_to_the_heap_past_eight_and_keeps_order() {
        let mut v = InlineVec::<_, 8>::new_with(0u32);
        for i in 0..20 {
            v.push(i);
            assert_eq!(&v[..], &(0..=i).collect::<Vec<_>>()[..]);
        }
        let mut f = InlineVec::<_, 8>::filled(None::<u8>, 10);
        f[9] = Some(1);
        assert_eq!(f.len(), 10);
        assert_eq!(f[9], Some(1));
    }
}
